"""Where a ticket's conversation lives on after merges, and its history across them.

A merged ticket keeps its row and its history and points at the ticket it was merged
into (`merged_into`), which may itself have been merged later: every reader that needs
"the ticket this conversation continues in" (the ticket pages, mail threading, a
customer's reply) walks that chain here, and nowhere else.

Events never move (tickets/services/moves.py): a message event counts for the ticket
its message is on now, which `history_events` reads, as the figures do
(metrics/services.py).
"""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, Q, QuerySet

from tickets.models import EqualsAny, EventKind, Ticket, TicketEvent


def merged_target(ticket: Ticket) -> Ticket:
    """The end of `ticket`'s merged_into chain (the ticket itself if it was never merged),
    with its customer. No query for a ticket that was never merged."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        following = Ticket.objects.select_related("customer").filter(pk=ticket.merged_into_id)
        found = following.first()
        if found is None:
            break
        ticket = found
    return ticket


def continued_ticket(number: int) -> Ticket | None:
    """Ticket `number`, or the ticket its conversation continues in; None if there is none."""
    ticket = Ticket.objects.select_related("customer").filter(pk=number).first()
    return merged_target(ticket) if ticket is not None else None


def history_events(ticket: Ticket) -> QuerySet[TicketEvent]:
    """The events of `ticket`'s history: its own, but the message events of messages that
    moved away (a merge, a split), and those of messages that moved in.

    `id = ANY(ARRAY(...))` (EqualsAny): both subqueries run once, and the events are read
    on the ticket's index and the primary key, not by a scan of every event."""
    messages = TicketEvent.objects.filter(kind=EventKind.MESSAGE).order_by()
    moved_in = messages.filter(message__ticket=ticket).exclude(ticket=ticket)
    moved_out = messages.filter(ticket=ticket, message__isnull=False).exclude(
        message__ticket=ticket
    )
    return TicketEvent.objects.filter(
        Q(ticket=ticket) | EqualsAny(F("pk"), ArraySubquery(moved_in.values("pk")))
    ).exclude(EqualsAny(F("pk"), ArraySubquery(moved_out.values("pk"))))
