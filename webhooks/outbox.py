"""Deliveries written in the transaction of the change they report (the outbox).

The core calls `events_recorded` and `customers_created` (tickets/hooks.py) inside its
transaction; the deliveries they write commit or roll back with the change, and the
send task is enqueued after commit. Which endpoints listen is held per process
(`subscriptions`), so a change costs no query while no endpoint wants its events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tickets.models import Customer, EventKind, TicketEvent
from webhooks import subscriptions
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.tasks import enqueue_sends

# Ticket event kinds reported as `ticket.updated`, by the field name in `changes`.
UPDATED_FIELDS = {
    EventKind.STATUS: "status",
    EventKind.PRIORITY: "priority",
    EventKind.KIND: "kind",
    EventKind.ASSIGNEE: "assignee",
    EventKind.TEAM: "team",
    EventKind.TAGS: "tags",
    EventKind.SUBJECT: "subject",
    EventKind.MAILBOX: "mailbox",
    EventKind.CUSTOMER: "customer",
    EventKind.CC: "cc",
    EventKind.SNOOZE: "snoozed_until",
    EventKind.FIELDS: "fields",
}


def _merge_changes(into: dict[str, list[Any]], field: str, before: Any, after: Any) -> None:
    if field in into:
        into[field] = [into[field][0], after]
    else:
        into[field] = [before, after]


def _owed(events: Iterable[TicketEvent]) -> list[tuple[str, int, int | None, dict[str, Any]]]:
    """(event, ticket id, object id, changes) in the order the changes happened; a
    ticket's field changes in one call come as one `ticket.updated`."""
    owed: list[tuple[str, int, int | None, dict[str, Any]]] = []
    updated: dict[int, dict[str, list[Any]]] = {}
    for event in events:
        if event.kind == EventKind.CREATED:
            owed.append((WebhookEvent.TICKET_CREATED, event.ticket_id, event.ticket_id, {}))
        elif event.kind == EventKind.MESSAGE and event.message_id is not None:
            owed.append((WebhookEvent.MESSAGE_CREATED, event.ticket_id, event.message_id, {}))
        elif event.kind == EventKind.SURVEY:
            scores = event.after if isinstance(event.after, dict) else {}
            owed.append((WebhookEvent.SURVEY_ANSWERED, event.ticket_id, None, scores))
        elif event.kind in UPDATED_FIELDS:
            ticket_id = event.ticket_id
            changes = updated.get(ticket_id)
            if changes is None:
                changes = updated[ticket_id] = {}
                owed.append((WebhookEvent.TICKET_UPDATED, ticket_id, ticket_id, changes))
            field = UPDATED_FIELDS[EventKind(event.kind)]
            _merge_changes(changes, field, event.before, event.after)
    return owed


def events_recorded(events: list[TicketEvent]) -> None:
    """Write the deliveries the events owe, in the caller's transaction."""
    if not subscriptions.any_active():
        return
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event=name,
            ticket_id=ticket_id,
            object_id=object_id,
            changes=changes,
        )
        for name, ticket_id, object_id, changes in _owed(events)
        for endpoint_id in subscriptions.listeners(name)
    ]
    _write(rows)


def customers_created(customers: list[Customer]) -> None:
    endpoints = subscriptions.listeners(WebhookEvent.CUSTOMER_CREATED)
    _write(
        [
            WebhookDelivery(
                endpoint_id=endpoint_id, event=WebhookEvent.CUSTOMER_CREATED, object_id=c.pk
            )
            for c in customers
            for endpoint_id in endpoints
        ]
    )


def _write(rows: list[WebhookDelivery]) -> None:
    if not rows:
        return
    # An endpoint deleted or turned off since this process read the list takes nothing.
    live = set(
        WebhookEndpoint.objects.filter(
            pk__in={row.endpoint_id for row in rows}, active=True
        ).values_list("pk", flat=True)
    )
    rows = WebhookDelivery.objects.bulk_create([row for row in rows if row.endpoint_id in live])
    enqueue_sends([row.pk for row in rows])
