"""Named queries behind the customer's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils.dateparse import parse_datetime

from tickets.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Customer,
    Direction,
    Message,
    Ticket,
)

PAGE_SIZE = 25
PUBLIC_DIRECTIONS = (Direction.INBOUND, Direction.OUTBOUND)


def visible_customer_ids(customer: Customer) -> list[int]:
    """The customers whose tickets this customer sees: themselves, plus the members of
    their organization where it shares tickets. The rule of Ticket.objects.visible_to,
    resolved to ids by indexed lookups (an OR across the join would scan every customer)
    so the list query walks the (customer, -created_at) index.
    """
    organization = customer.organization
    if organization is not None and organization.shares_tickets:
        return list(
            Customer.objects.filter(organization_id=organization.pk).values_list("pk", flat=True)
        )
    return [customer.pk]


@dataclass(frozen=True)
class RequestPage:
    tickets: list[Ticket]
    next_cursor: str | None


def my_requests(customer: Customer, *, state: str = "", cursor: str = "") -> RequestPage:
    """A page of the requests `customer` may see, newest first, keyset-paginated.

    One query for the page (with each ticket's customer), after one for the organization's
    members where it shares tickets.
    """
    customer_ids = visible_customer_ids(customer)
    tickets: QuerySet[Ticket] = Ticket.objects.filter(
        customer_id__in=customer_ids
    ).shown_to_customers()
    if state == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif state == "solved":
        tickets = tickets.filter(status__in=DONE_STATUSES)
    after = _parse_cursor(cursor)
    if after is not None:
        created_at, number = after
        tickets = tickets.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, number__lt=number)
        )
    rows = list(
        tickets.select_related("customer")
        .only(
            "number", "subject", "status", "created_at", "updated_at", "last_message_at",
            "message_count", "customer__email", "customer__name", "customer__user",
        )
        .order_by("-created_at", "-number")[: PAGE_SIZE + 1]
    )  # fmt: skip
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        next_cursor = f"{last.created_at.isoformat()}~{last.number}"
    return RequestPage(rows, next_cursor)


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    stamp, _, number = cursor.partition("~")
    try:
        created_at = parse_datetime(stamp)
        return (created_at, int(number)) if created_at else None
    except ValueError:
        return None


def public_conversation(ticket: Ticket) -> list[Message]:
    """The messages a customer sees: inbound and outbound, never internal notes."""
    return list(
        ticket.messages.filter(direction__in=PUBLIC_DIRECTIONS)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "id")
    )


def public_attachment(ticket: Ticket, attachment_id: int | str) -> Attachment | None:
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        return None
    return (
        Attachment.objects.filter(
            pk=attachment_id, message__ticket=ticket, message__direction__in=PUBLIC_DIRECTIONS
        )
        .select_related("message")
        .first()
    )
