"""Automation rules: when a ticket is created, updated or on a schedule, if conditions hold,
apply actions.

How a change reaches the rules: every ticket service calls `tickets.hooks.ticket_changed`
after commit, and the workflow's receiver calls `run_rules`. Rules run synchronously
there (not in a Celery task) so an agent sees a rule's effect on the next page load and
rules cost no worker round trip; the bench holds them to <= 5 ms p95 with 50 active
rules. A change no rule matches costs one statement (claim the new events, read the
ticket columns conditions need) and one Redis read: the rule list is cached per process
with its conditions compiled to predicates, invalidated through a version key in Redis,
and the full Ticket is loaded only when a rule matches and its actions run.

Which events are new: a per-ticket cursor (RuleCursor) holds the last event the engine
looked at and is advanced with compare-and-set, so an after-commit hook that fires twice
for one change, or in two processes at once, evaluates the rules once.

No loops: each rule acts at most once per change. Changes made by rules are seen by the
later rules of the same pass and start an "updated" pass for the rules that have not
acted yet, at most MAX_DEPTH passes deep. Imported history never runs rules.

Scheduled rules are checked by a beat task with one set-based query per rule (conditions
translate to SQL); RuleApplication makes a rule act once per ticket until the ticket
changes again.

The package: what a rule sees (context), what it can check (conditions, a registry) and
do (actions, a registry), the cached active rules and their validation (rules), running
them on a change (engine) and on a schedule (schedule). Rules are saved and deleted
through tickets/workflow/setup.py, which invalidates the cache in every process.
"""

from tickets.workflow.automation import fields
from tickets.workflow.automation.actions import (
    ACTION_LABELS,
    ACTIONS,
    action_label,
    apply_action,
    rule_text,
)
from tickets.workflow.automation.conditions import (
    CONDITIONS,
    OPERATOR_LABELS,
    compile_conditions,
    describe,
    rule_queryset,
)
from tickets.workflow.automation.context import Context, TicketFacts, message_sentiment
from tickets.workflow.automation.engine import (
    MAX_DEPTH,
    mark_events_seen,
    run_rules,
    run_rules_many,
)
from tickets.workflow.automation.rules import (
    CachedRule,
    active_rules,
    rules_changed,
    validate_rule,
)
from tickets.workflow.automation.schedule import apply_scheduled_rule, run_scheduled_rules

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "CONDITIONS",
    "MAX_DEPTH",
    "OPERATOR_LABELS",
    "CachedRule",
    "Context",
    "TicketFacts",
    "action_label",
    "active_rules",
    "apply_action",
    "apply_scheduled_rule",
    "compile_conditions",
    "describe",
    "fields",
    "mark_events_seen",
    "message_sentiment",
    "rule_queryset",
    "rule_text",
    "rules_changed",
    "run_rules",
    "run_rules_many",
    "run_scheduled_rules",
    "validate_rule",
]
