"""Changes to a ticket's properties: one event per field that really changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tickets import hooks
from tickets.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    ActorKind,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services.events import SYSTEM, Actor, after_commit, new_event

# Fields an agent may change in place, and how each is written into the event log.
EDITABLE_FIELDS = ("status", "priority", "kind", "assignee", "team", "tags", "subject")


def normalize_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = "-".join(str(tag).strip().lower().split())[:50]
        if cleaned:
            seen.setdefault(cleaned, None)
    return sorted(seen)


def _event_value(field: str, value: Any) -> Any:
    if field == "assignee":
        return value.email if value is not None else None
    if field == "team":
        return value.name if value is not None else None
    return value


class InvalidChange(ValueError):
    """A change that the ticket's state does not allow (e.g. reopening a closed ticket)."""


def apply_changes(
    ticket: Ticket, changes: dict[str, Any], *, actor: Actor, at: datetime
) -> tuple[list[TicketEvent], list[str]]:
    """Set `changes` on the ticket in memory: one event (not saved yet) per field that
    really changed, and the fields to save. Solving and reopening keep `solved_at`."""
    events: list[TicketEvent] = []
    update_fields: list[str] = []
    for field, value in changes.items():
        before = getattr(ticket, field)
        if before == value:
            continue
        setattr(ticket, field, value)
        update_fields.append(field)
        events.append(
            new_event(
                ticket,
                field,
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
    """Change any of EDITABLE_FIELDS; one event per field that really changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_ticket cannot change {sorted(unknown)}")
    at = at or timezone.now()
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("assignee", "team")
        .get(pk=ticket.pk)
    )
    if "tags" in changes:
        changes["tags"] = normalize_tags(changes["tags"])
    if (
        "status" in changes
        and locked.status == Status.CLOSED
        and changes["status"] != Status.CLOSED
        and actor.kind != ActorKind.IMPORT
    ):
        raise InvalidChange("A closed ticket cannot be reopened; a new message opens a follow-up.")
    events, update_fields = apply_changes(locked, changes, actor=actor, at=at)
    TicketEvent.objects.bulk_create(events)
    if "assignee" in update_fields and locked.assignee is not None:
        hooks.ticket_assigned(locked, locked.assignee, actor.user)
    if update_fields:
        locked.save(update_fields=[*dict.fromkeys(update_fields), "updated_at"])
        for field in [*update_fields, "updated_at"]:
            setattr(ticket, field, getattr(locked, field))
        after_commit(ticket.pk)
    return events


@transaction.atomic
def bulk_update(
    tickets: Iterable[Ticket], *, actor: Actor, add_tag: str = "", **changes: Any
) -> tuple[int, int]:
    """Apply one change to many tickets, one event per ticket that really changed.

    Returns (changed, refused): a ticket whose state forbids the change (a closed ticket
    asked to reopen) is left as it is and counted, the others still change.
    """
    changed = refused = 0
    for ticket in tickets:
        ticket_changes = dict(changes)
        if add_tag:
            ticket_changes["tags"] = [*ticket.tags, add_tag]
        try:
            if update_ticket(ticket, actor=actor, **ticket_changes):
                changed += 1
        except InvalidChange:
            refused += 1
    return changed, refused
