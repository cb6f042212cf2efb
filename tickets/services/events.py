"""Who changes a ticket, the event rows that record each change, and the after-commit
hook that runs the side effects (figures, rules, live counts) once per ticket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpdesk.instances import unsaved
from tickets import hooks
from tickets.counts import counts_changed
from tickets.models import ActorKind, Message, Ticket, TicketEvent, User


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a person (agent or customer user), or mail, a rule, the system."""

    kind: str = ActorKind.SYSTEM
    user: User | None = None
    # For automation rules: which rule acted, written into each event's data so the log
    # reads "rule X set priority high" and the engine can tell a rule's own changes apart.
    rule_id: int | None = None
    rule_name: str = ""

    @classmethod
    def agent(cls, user: User) -> Actor:
        return cls(ActorKind.AGENT, user)

    @classmethod
    def rule(cls, rule_id: int, name: str) -> Actor:
        return cls(ActorKind.RULE, None, rule_id, name)


SYSTEM = Actor()
MAIL = Actor(ActorKind.MAIL)
IMPORT = Actor(ActorKind.IMPORT)


def new_event(
    ticket: Ticket,
    kind: str,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    before: Any = None,
    after: Any = None,
    message: Message | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """The event row of a change, not saved yet: `record_event` saves one, history import
    saves a batch of them at once."""
    if actor.rule_id is not None:
        data = {**(data or {}), "rule_id": actor.rule_id, "rule": actor.rule_name}
    return unsaved(TicketEvent)(
        ticket=ticket,
        kind=kind,
        at=at or timezone.now(),
        actor=actor.user,
        actor_kind=actor.kind,
        before=before,
        after=after,
        message=message,
        data=data or {},
    )


def record_event(ticket: Ticket, kind: str, **fields: Any) -> TicketEvent:
    """Save the event of a change (the arguments of `new_event`)."""
    event = new_event(ticket, kind, **fields)
    event.save(force_insert=True)
    return event


def ticket_changed(ticket_id: int) -> None:
    """Side effects of any change, run after commit: figures, rules, live counts."""
    counts_changed()
    hooks.ticket_changed(ticket_id)


def tickets_changed(ticket_ids: list[int]) -> None:
    """`ticket_changed` for tickets committed together (a mail batch): their figures
    marked stale in one Redis round trip and one task, then their workflow (rules, SLA,
    assignment) with a statement per step for all of them."""
    counts_changed()
    hooks.tickets_changed(ticket_ids)


class _TicketChanged:
    """The after-commit hook of one ticket, recognizable so it can be registered once."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id

    def __call__(self) -> None:
        ticket_changed(self.ticket_id)


# Where the pending on-commit hooks of the current coalesced_changes() block start.
_coalesce_from: ContextVar[int | None] = ContextVar("coalesce_from", default=None)


@contextmanager
def coalesced_changes() -> Iterator[None]:
    """Inside a transaction: each ticket's after-commit hook runs once, not once per change.

    History import replays a ticket's whole history in one transaction; without this,
    the rules, SLA and figures would run after commit once per message and event. Django
    drops hooks registered in a savepoint that rolls back, so a hook still pending in
    the list is one that will really run.
    """
    outer = _coalesce_from.get()
    # Nested blocks (add_message inside create_ticket, both inside an import line) keep
    # the outermost start, so a hook registered anywhere in the block is found.
    token = _coalesce_from.set(
        outer if outer is not None else len(transaction.get_connection().run_on_commit)
    )
    try:
        yield
    finally:
        _coalesce_from.reset(token)


@contextmanager
def changes_in_bulk() -> Iterator[None]:
    """`coalesced_changes` whose tickets' hooks run as one `tickets_changed` after commit.

    At the end of the block, the tickets whose hook is still pending (a savepoint that
    rolled back took its hooks with it) trade their hooks for one; other hooks (mail to
    send, notices) stay as they were.
    """
    with coalesced_changes():
        yield
        start = _coalesce_from.get() or 0
        hooks = transaction.get_connection().run_on_commit
        ids = [hook.ticket_id for _, hook, _ in hooks[start:] if isinstance(hook, _TicketChanged)]
        if ids:
            hooks[start:] = [
                entry for entry in hooks[start:] if not isinstance(entry[1], _TicketChanged)
            ]
            transaction.on_commit(lambda: tickets_changed(ids))


def after_commit(ticket_id: int) -> None:
    """Run `ticket_changed` after commit; once per ticket inside `coalesced_changes`."""
    start = _coalesce_from.get()
    if start is not None and any(
        isinstance(hook, _TicketChanged) and hook.ticket_id == ticket_id
        for _, hook, _ in transaction.get_connection().run_on_commit[start:]
    ):
        return
    transaction.on_commit(_TicketChanged(ticket_id))
