"""Changes to a ticket's properties: one event per field that really changed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from tickets import hooks
from tickets.models import DONE_STATUSES, OPEN_STATUSES, EventKind, Status, Ticket, TicketEvent
from tickets.services.events import SYSTEM, Actor, after_commit, new_event, save_events
from tickets.services.fields import changed_keys, check_ticket_fields
from tickets.services.policy import InvalidChange, StateConflict, check_changes, clean_subject

# Fields an agent may change in place, and how each is written into the event log.
EDITABLE_FIELDS = ("status", "priority", "kind", "assignee", "team", "tags", "subject", "fields")
# update_ticket changes the conversation's Cc too (a merge joins two). A snooze is
# `snooze_ticket`'s; it ends by `wake_ticket` or any change of status out of pending.
UPDATABLE_FIELDS = (*EDITABLE_FIELDS, "cc")
# The event kind of a field whose kind is not its name.
_EVENT_KINDS = {"snoozed_until": EventKind.SNOOZE}


def _event_value(field: str, value: Any) -> Any:
    if field == "assignee":
        return value.email if value is not None else None
    if field == "team":
        return value.name if value is not None else None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def apply_changes(
    ticket: Ticket, changes: dict[str, Any], *, actor: Actor, at: datetime
) -> tuple[list[TicketEvent], list[str]]:
    """Set `changes` on the ticket in memory: one event (not saved yet) per field that
    really changed, and the fields to save. Solving and reopening keep `solved_at`.

    Raises InvalidChange, before setting anything, if the rules refuse one of the changes
    (tickets/services/policy.py)."""
    changes = check_ticket_fields(
        ticket, check_changes(ticket, changes, actor.kind, actor.user), actor.kind
    )
    status = changes.get("status", ticket.status)
    if ticket.snoozed_until is not None and status not in (ticket.status, Status.PENDING):
        # Out of pending, a snooze is over: a customer's reply, an agent, a rule woke it.
        changes.setdefault("snoozed_until", None)
    events: list[TicketEvent] = []
    update_fields: list[str] = []
    for field, value in changes.items():
        before = getattr(ticket, field)
        if before == value:
            continue
        setattr(ticket, field, value)
        update_fields.append(field)
        if field == "fields":
            # Only the keys that changed, each before and after.
            keys = changed_keys(before, value)
            before = {key: before.get(key) for key in keys}
            value = {key: value.get(key) for key in keys}
        events.append(
            new_event(
                ticket,
                _EVENT_KINDS.get(field, field),
                actor=actor,
                at=at,
                before=_event_value(field, before),
                after=_event_value(field, value),
            )
        )
        if field == "status":
            if value in DONE_STATUSES and before in OPEN_STATUSES:
                ticket.solved_at = at
                update_fields.append("solved_at")
            elif value in OPEN_STATUSES:
                ticket.solved_at = None
                update_fields.append("solved_at")
    if update_fields:
        ticket.updated_at = max(ticket.updated_at, at)
    return events, update_fields


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    **changes: Any,
) -> list[TicketEvent]:
    """Change any of EDITABLE_FIELDS (and `cc`); one event per field that really changed.

    Raises InvalidChange, changing nothing, if the rules refuse any of the changes."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_ticket cannot change {sorted(unknown)}")
    if "subject" in changes:
        changes["subject"] = clean_subject(changes["subject"])
    return _change(ticket, changes, actor=actor, at=at or timezone.now())


def _change(
    ticket: Ticket, changes: dict[str, Any], *, actor: Actor, at: datetime
) -> list[TicketEvent]:
    """`changes` applied to the locked row of `ticket` and saved, with their events; the
    caller's copy of the ticket gets the new values. The caller holds the transaction."""
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("assignee", "team")
        .get(pk=ticket.pk)
    )
    return change_locked(locked, changes, actor=actor, at=at, copy_to=ticket)


def change_locked(
    locked: Ticket,
    changes: dict[str, Any],
    *,
    actor: Actor,
    at: datetime,
    copy_to: Ticket | None = None,
) -> list[TicketEvent]:
    """`_change` for a caller that already holds the ticket's row lock, in its transaction,
    and a copy of the row as it stands (tickets.services.messages.add_message): no second
    read of the row. `copy_to`, when another copy, gets the new values too."""
    ticket = locked if copy_to is None else copy_to
    events, update_fields = apply_changes(locked, changes, actor=actor, at=at)
    save_events(events)
    if "assignee" in update_fields and locked.assignee is not None:
        hooks.ticket_assigned(locked, locked.assignee, actor.user)
    if update_fields:
        locked.save(update_fields=[*dict.fromkeys(update_fields), "updated_at"])
        for field in [*update_fields, "updated_at"]:
            setattr(ticket, field, getattr(locked, field))
        after_commit(ticket.pk)
    return events


@transaction.atomic
def snooze_ticket(ticket: Ticket, until: datetime, *, actor: Actor) -> list[TicketEvent]:
    """Set the ticket pending until `until`, when `wake_ticket` reopens it (any change of
    status out of pending, a customer's reply say, ends the snooze sooner)."""
    at = timezone.now()
    if until <= at:
        raise InvalidChange(gettext("Choose a time in the future."), field="until")
    if ticket.status == Status.CLOSED:
        raise StateConflict("A closed ticket cannot be snoozed.", field="status")
    return _change(ticket, {"status": Status.PENDING, "snoozed_until": until}, actor=actor, at=at)


@transaction.atomic
def wake_ticket(ticket: Ticket, *, now: datetime, actor: Actor = SYSTEM) -> bool:
    """End the ticket's snooze if it is due at `now`: a pending ticket reopens. False if
    there was nothing to wake (no snooze, not due yet, or woken by someone else: the row
    is locked and read again, so two beat runs wake a ticket once)."""
    due = (
        Ticket.objects.select_for_update(of=("self",))
        .filter(pk=ticket.pk, snoozed_until__lte=now)
        .values_list("status", flat=True)
        .first()
    )
    if due is None:
        return False
    changes = {"status": Status.OPEN} if due == Status.PENDING else {"snoozed_until": None}
    _change(ticket, changes, actor=actor, at=timezone.now())
    return due == Status.PENDING


@dataclasses.dataclass
class BulkChange:
    """What `bulk_update` did: how many tickets changed, and how many the rules left
    unchanged, by the field they refused (None for a refusal of no one field)."""

    changed: int = 0
    refused: Counter[str | None] = dataclasses.field(default_factory=Counter)


@transaction.atomic
def bulk_update(
    tickets: Iterable[Ticket], *, actor: Actor, add_tag: str = "", **changes: Any
) -> BulkChange:
    """Apply one change to many tickets, one event per ticket that really changed.

    A ticket the rules refuse the change (a closed ticket asked to reopen, an assignee who
    cannot open it, a tag too many) is left as it is and counted; the others still change.
    """
    result = BulkChange()
    for ticket in tickets:
        ticket_changes = dict(changes)
        if add_tag:
            ticket_changes["tags"] = [*ticket.tags, add_tag]
        try:
            if update_ticket(ticket, actor=actor, **ticket_changes):
                result.changed += 1
        except InvalidChange as refusal:
            result.refused[refusal.field] += 1
    return result
