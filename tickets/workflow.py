"""What happens after every committed ticket change: rules, auto-assignment, SLA due times.

Called from tickets.services.ticket_changed. The services' own after-commit hooks fire
again while rules act (each rule action is a service call); a per-thread guard keeps
those nested calls from re-entering, and the rule engine's event cursor picks up what
the rules changed (see tickets/automation.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tickets.models import Status, Ticket

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


def _after_change(ticket_id: int) -> None:
    from tickets import assignment, automation, sla

    automation.run_rules(ticket_id)
    ticket = Ticket.objects.filter(pk=ticket_id).select_related("customer").first()
    if ticket is None:
        return
    if ticket.snoozed_until is not None and ticket.status != Status.PENDING:
        # A customer reply (or an agent) woke the ticket before its snooze ended.
        Ticket.objects.filter(pk=ticket_id).update(snoozed_until=None)
    assignment.auto_assign(ticket)
    sla.refresh_due_times(ticket)
