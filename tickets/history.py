"""Where a ticket's conversation lives on after merges.

A merged ticket keeps its row and its history and points at the ticket it was merged
into (`merged_into`), which may itself have been merged later: every reader that needs
"the ticket this conversation continues in" (the ticket pages, mail threading, a
customer's reply) walks that chain here, and nowhere else.
"""

from __future__ import annotations

from tickets.models import Ticket


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
