"""What happens after every committed ticket change: rules, auto-assignment, SLA due times.

Registered for `tickets.hooks.ticket_changed` and `tickets_changed` in
WorkflowConfig.ready(). The services' own after-commit hooks fire again while rules act
(each rule action is a service call); a per-thread guard keeps those nested calls from
re-entering, and the rule engine's event cursor picks up what the rules changed (see
tickets/workflow/automation).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from helpdesk.local_cache import pinned
from tickets import services
from tickets.models import Ticket
from tickets.workflow import assignment, automation, sla
from tickets.workflow.models import AssignmentPolicy

log = logging.getLogger(__name__)
_local = threading.local()


@contextmanager
def held(ticket_id: int) -> Iterator[None]:
    """Hold the after-change workflow for a ticket (the bench times run_rules on its own)."""
    active: set[int] = _local.__dict__.setdefault("active", set())
    active.add(ticket_id)
    try:
        yield
    finally:
        active.discard(ticket_id)


# The receivers of tickets.hooks: by name, so that a test can stand in for either.
def ticket_changed(ticket_id: int) -> None:
    workflow_after_change(ticket_id)


def tickets_changed(ticket_ids: list[int]) -> None:
    workflow_after_changes(ticket_ids)


def workflow_after_change(ticket_id: int) -> None:
    active: set[int] = _local.__dict__.setdefault("active", set())
    if ticket_id in active:
        return
    active.add(ticket_id)
    try:
        _after_change(ticket_id)
    except Exception:
        # The change itself is committed: a failing rule, policy or assignment must not
        # turn it into an error page. Logged with its traceback; the next change retries.
        log.exception("workflow after change of ticket #%s failed", ticket_id)
    finally:
        active.discard(ticket_id)


def workflow_after_changes(ticket_ids: list[int]) -> None:
    """`workflow_after_change` for tickets committed together (a mail batch), with a
    statement per step for all of them instead of per ticket: the rules' claim and
    facts, the reload, the SLA due times. A rule that acts, and round-robin
    assignment, still go ticket by ticket. If anything fails, each ticket is taken
    alone, as `workflow_after_change` does."""
    active: set[int] = _local.__dict__.setdefault("active", set())
    ids = [pk for pk in dict.fromkeys(ticket_ids) if pk not in active]
    if not ids:
        return
    active.update(ids)
    try:
        with pinned():
            _after_changes(ids)
    except Exception:
        log.exception("workflow after a batch of changes failed; taking each ticket alone")
        active.difference_update(ids)
        for ticket_id in ids:
            workflow_after_change(ticket_id)
    finally:
        active.difference_update(ids)


def _after_changes(ids: list[int]) -> None:
    # The rules of the whole batch in one transaction: the claims and whatever the rules
    # do commit together, and the after-commit work of what they changed (a follow-up
    # ticket, a raised priority) runs once for all of it, as for a mail batch. A batch
    # where no rule acted commits its claims without waiting for the WAL flush, as one
    # claim alone does (see automation/engine.py, _CLAIM_NEW_EVENTS_SQL).
    with transaction.atomic(), services.changes_in_bulk():
        if not automation.run_rules_many(ids):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
    tickets = list(Ticket.objects.filter(pk__in=ids).select_related("customer"))
    teams = {t.team_id for t in tickets if t.team_id is not None and t.assignee_id is None}
    rotating = set(
        AssignmentPolicy.objects.filter(team_id__in=teams, enabled=True).values_list(
            "team_id", flat=True
        )
        if teams
        else ()
    )
    for ticket in tickets:
        if ticket.team_id in rotating:
            assignment.auto_assign(ticket)
    calendar_of = sla.calendar_per_mailbox()
    due = [t for t in tickets if sla.apply_due_times(t, calendar_of)]
    if due:
        Ticket.objects.bulk_update(due, list(sla.DUE_FIELDS))


def _after_change(ticket_id: int) -> None:
    automation.run_rules(ticket_id)
    ticket = Ticket.objects.filter(pk=ticket_id).select_related("customer").first()
    if ticket is None:
        return
    assignment.auto_assign(ticket)
    sla.refresh_due_times(ticket)
