"""The body of a delivery: `{"id", "event", "created_at", "data"}`, where `data` is the
resource as the API's detail endpoint shows it to an admin (specs/api.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Prefetch

from tickets.api.serializers import CustomerSerializer, MessageSerializer, TicketDetailSerializer
from tickets.models import Customer, Message, Ticket
from webhooks.models import TEST_EVENT, WebhookDelivery, WebhookEvent


def _ticket(ticket_id: int | None) -> dict[str, Any] | None:
    messages = Message.objects.select_related("author").order_by("created_at", "id")
    ticket = (
        Ticket.objects.select_related("mailbox", "customer__organization", "assignee", "team")
        .prefetch_related(Prefetch("messages", queryset=messages))
        .filter(pk=ticket_id or 0)
        .first()
    )
    return dict(TicketDetailSerializer(ticket).data) if ticket else None


def _message(message_id: int | None) -> dict[str, Any] | None:
    message = Message.objects.select_related("author").filter(pk=message_id or 0).first()
    return dict(MessageSerializer(message).data) if message else None


def _customer(customer_id: int | None) -> dict[str, Any] | None:
    customer = (
        Customer.objects.select_related("organization")
        .annotate(ticket_count=Count("tickets"))
        .filter(pk=customer_id or 0)
        .first()
    )
    return dict(CustomerSerializer(customer).data) if customer else None


def _survey(delivery: WebhookDelivery) -> dict[str, Any]:
    # The API has no survey endpoint: the ticket's number (its primary key) and the scores.
    return {"ticket": delivery.ticket_id, "scores": delivery.changes}


def data_of(delivery: WebhookDelivery) -> dict[str, Any] | None:
    """The resource now; None if it is gone (deleted or erased since)."""
    if delivery.event in (WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_UPDATED):
        data = _ticket(delivery.ticket_id)
        if data is not None and delivery.event == WebhookEvent.TICKET_UPDATED:
            data["changes"] = delivery.changes
        return data
    if delivery.event == WebhookEvent.MESSAGE_CREATED:
        return _message(delivery.object_id)
    if delivery.event == WebhookEvent.CUSTOMER_CREATED:
        return _customer(delivery.object_id)
    if delivery.event == WebhookEvent.SURVEY_ANSWERED:
        return _survey(delivery)
    if delivery.event == TEST_EVENT:
        return {"endpoint": delivery.endpoint_id, "message": "A test delivery from Tandem."}
    return None


def body_of(delivery: WebhookDelivery) -> str:
    return json.dumps(
        {
            "id": str(delivery.delivery_id),
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": data_of(delivery),
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
