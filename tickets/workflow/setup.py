"""Saving and deleting the workflow's setup rows that every process caches: automation
rules and SLA policies.

Each process holds the active rules (compiled) and policies in memory, checked against a
version key in Redis on each read (helpdesk/local_cache.py). Whatever changes those rows,
the rule builder, the SLA page, the Django admin (a form, a list edit, a bulk delete) or
code, goes through these functions, which bump the version after commit so that every
process reloads, and write the change (before and after) to the audit log in their
transaction; nothing else writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from audit import services as audit
from audit.models import AuditKind
from helpdesk.celery import enqueue_on_commit
from tickets.workflow import tasks
from tickets.workflow.automation import rules_changed
from tickets.workflow.models import AutomationRule, SlaPolicy
from tickets.workflow.sla import policies_changed


@transaction.atomic
def save_rule(rule: AutomationRule) -> AutomationRule:
    before = audit.stored_snapshot(AutomationRule, rule.pk)
    rule.updated_at = timezone.now()
    rule.save()
    audit.record_saved(AuditKind.RULE, rule, before)
    transaction.on_commit(rules_changed)
    return rule


def delete_rules(rules: Iterable[AutomationRule]) -> int:
    """Delete rules (one, or an admin's selection); returns how many."""
    return _delete(AutomationRule, rules, _rules_changed, AuditKind.RULE)


def _rules_changed() -> None:
    transaction.on_commit(rules_changed)


@transaction.atomic
def save_policy(policy: SlaPolicy) -> SlaPolicy:
    before = audit.stored_snapshot(SlaPolicy, policy.pk)
    policy.save()
    audit.record_saved(AuditKind.SLA, policy, before)
    _policies_changed()
    return policy


def _policies_changed() -> None:
    """After commit: every process reloads the policies, then the open tickets get the
    due times of the policy that now applies to them (in the background)."""
    transaction.on_commit(policies_changed)
    enqueue_on_commit(tasks.reapply_sla_policies)


def delete_policies(policies: Iterable[SlaPolicy]) -> int:
    """Delete SLA policies (one, or an admin's selection); returns how many."""
    return _delete(SlaPolicy, policies, _policies_changed, AuditKind.SLA)


@transaction.atomic
def _delete(
    model: type[Model], rows: Iterable[Model], changed: Callable[[], None], kind: AuditKind
) -> int:
    stored = list(model._default_manager.filter(pk__in=[row.pk for row in rows]))
    ids = [row.pk for row in stored]
    for row in stored:
        audit.record_change(kind, row, audit.snapshot(row), None)
    deleted, _ = model._default_manager.filter(pk__in=ids).delete()
    changed()
    return len(ids) if deleted else 0
