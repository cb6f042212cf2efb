"""Messages moving from one ticket to another: a merge (all of them) or a split (one).

Events are never updated, so the message events stay where they happened. What moved is
recorded by an event on each ticket (kind merged or split) naming the other ticket and
the messages moved; a reader that needs a ticket's whole history counts a message event
for the ticket its message is on now (tickets/history.py, metrics/services.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from tickets.models import Direction, EventKind, Message, Ticket
from tickets.services.events import Actor, after_commit, record_event
from tickets.services.policy import check_actor


def _recount(ticket_id: int) -> None:
    """Message counters of a ticket after messages moved in or out, and the change itself:
    its conversation is another one now, so its figures are re-measured after commit (a
    merge or split may change no status, whose update would have done it) and the change
    time moves on, which the figures sweeper compares with."""
    figures = Message.objects.filter(ticket_id=ticket_id).aggregate(
        count=Count("id"),
        last=Max("created_at", filter=~Q(direction=Direction.NOTE)),
        first_reply=Min("created_at", filter=Q(direction=Direction.OUTBOUND, automatic=False)),
    )
    Ticket.objects.filter(pk=ticket_id).update(
        message_count=figures["count"],
        last_message_at=figures["last"],
        first_response_at=figures["first_reply"],
        updated_at=Greatest(F("updated_at"), Value(timezone.now())),
    )
    after_commit(ticket_id)


@transaction.atomic
def move_messages(
    source: Ticket,
    target: Ticket,
    message_ids: Sequence[int],
    *,
    kind: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
) -> None:
    """Move these messages of `source` (with their attachments) to `target`, recorded by
    a `kind` event on each: the source's names the target (`after`), the target's the
    source (`before`), both list the messages and hold `data` (what else moved). A light
    agent moves nothing (NotPermitted)."""
    check_actor(actor.user)
    at = timezone.now()
    Message.objects.filter(pk__in=message_ids, ticket=source).update(ticket=target)
    _recount(source.pk)
    _recount(target.pk)
    moved = {"messages": list(message_ids), **(data or {})}
    record_event(source, kind, actor=actor, at=at, after=target.pk, data=moved)
    record_event(target, kind, actor=actor, at=at, before=source.pk, data=moved)


@transaction.atomic
def merge_conversation(
    source: Ticket, target: Ticket, *, actor: Actor, data: dict[str, Any] | None = None
) -> list[int]:
    """Move every message of `source` to `target` and point `source` at it (`merged_into`,
    which the merged events record); the messages moved."""
    check_actor(actor.user)
    ids = list(Message.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    move_messages(source, target, ids, kind=EventKind.MERGED, actor=actor, data=data)
    Ticket.objects.filter(pk=source.pk).update(merged_into=target)
    return ids
