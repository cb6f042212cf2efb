"""Outgoing webhooks against a real HTTP receiver on localhost: signed deliveries, retries
with the same id, a ticket's events in order, endpoints turned off, private targets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry, AuditKind
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.webhooks.receiver import Receiver, verify
from tickets import services
from tickets.models import Ticket
from webhooks import sending
from webhooks import services as webhook_services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import send_delivery, sweep_deliveries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def endpoint_for(
    receiver: Receiver, personas: Personas, capture: Any, events: list[str]
) -> WebhookEndpoint:
    with capture(execute=True):
        endpoint = webhook_services.create_endpoint(
            url=receiver.url, events=events, actor=personas.admin
        )
    receiver.secret = endpoint.secret
    return endpoint


def new_ticket(personas: Personas, capture: Any, subject: str = "Printer on fire") -> Ticket:
    with capture(execute=True):
        return services.create_ticket(
            mailbox=personas.mailbox_a,
            customer=personas.customer,
            subject=subject,
            body_text="It smokes.",
            actor=services.Actor.agent(personas.agent_a),
        )


def failed_once(
    receiver: Receiver, personas: Personas, capture: Any
) -> tuple[WebhookEndpoint, WebhookDelivery]:
    """An endpoint for ticket.created whose first delivery got a 500."""
    endpoint = endpoint_for(receiver, personas, capture, ["ticket.created"])
    receiver.statuses = [500]
    new_ticket(personas, capture)
    return endpoint, WebhookDelivery.objects.get()


def due_now(delivery: WebhookDelivery) -> None:
    """The clock moved past the retry's due time."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_signed_delivery_the_receiver_verifies(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint_for(receiver, personas, django_capture_on_commit_callbacks, ["ticket.created"])
    ticket = new_ticket(personas, django_capture_on_commit_callbacks)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.verified
    delivery = WebhookDelivery.objects.get()
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Tandem-Event"] == "ticket.created"
    assert got.headers["Tandem-Delivery"] == str(delivery.delivery_id)
    assert set(got.json) == {"id", "event", "created_at", "data"}
    assert got.json["id"] == str(delivery.delivery_id)
    assert got.json["data"]["number"] == ticket.number
    assert got.json["data"]["customer"]["email"] == "li@customer.test"
    assert [m["body"] for m in got.json["data"]["messages"]] == ["It smokes."]
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.get().status_code == 200
    # A receiver holding another secret, or a body changed on the way, fails the check.
    assert not verify("whsec_other", got.headers["Tandem-Signature"], got.body)
    assert not verify(receiver.secret, got.headers["Tandem-Signature"], got.body + b" ")


def test_a_500_is_retried_later_with_the_same_id_and_body(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint_for(receiver, personas, django_capture_on_commit_callbacks, ["ticket.created"])
    receiver.statuses = [500]
    new_ticket(personas, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    send_delivery(delivery.pk)  # not due yet: nothing is sent
    assert len(receiver.received) == 1

    due_now(delivery)
    send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    first, second = receiver.received
    assert first.headers["Tandem-Delivery"] == second.headers["Tandem-Delivery"]
    assert first.body == second.body
    assert first.verified and second.verified
    attempts = list(delivery.attempt_log.order_by("number").values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 200)]


def test_retry_delays_grow_and_last_past_a_day() -> None:
    delays = sending.RETRY_DELAYS
    assert list(delays) == sorted(delays)
    assert sum(delays) >= 24 * 3600


def test_a_tickets_events_go_in_order_one_at_a_time(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint_for(
        receiver,
        personas,
        django_capture_on_commit_callbacks,
        ["ticket.created", "ticket.updated", "message.created"],
    )
    receiver.statuses = [503]  # the first delivery, ticket.created, fails once
    ticket = new_ticket(personas, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(
            ticket, priority="high", status="pending", actor=services.Actor.agent(personas.agent_a)
        )
    created, message, updated = WebhookDelivery.objects.order_by("pk")
    assert [created.event, message.event, updated.event] == [
        "ticket.created",
        "message.created",
        "ticket.updated",
    ]
    # Both changes of one call in one event, each field [old, new].
    assert updated.changes == {"priority": ["normal", "high"], "status": ["new", "pending"]}
    # Only the first was tried; the later ones wait behind it, whoever asks to send them.
    assert receiver.events == ["ticket.created"]
    send_delivery(updated.pk)
    sweep_deliveries()
    assert receiver.events == ["ticket.created"]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 3

    due_now(created)
    send_delivery(created.pk)  # settles, then hands on to the next in line, and so on
    assert receiver.events == [
        "ticket.created",
        "ticket.created",
        "message.created",
        "ticket.updated",
    ]
    assert receiver.received[-1].json["data"]["changes"] == updated.changes
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_deliveries_are_written_in_the_changes_transaction(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint_for(receiver, personas, django_capture_on_commit_callbacks, ["ticket.updated"])
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.update_ticket(ticket, priority="low", actor=services.SYSTEM)
        # Stored with the change, before anything is sent.
        assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    assert receiver.received == []
    assert callbacks
    # A change that rolls back takes its delivery with it.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.update_ticket(ticket, priority="urgent", actor=services.SYSTEM)
        raise RuntimeError("the rest of the request failed")
    assert WebhookDelivery.objects.count() == 1


def test_an_endpoint_failing_for_a_day_is_turned_off_and_admins_told(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = endpoint_for(
        receiver, personas, django_capture_on_commit_callbacks, ["ticket.created"]
    )
    receiver.statuses = [500, 500]
    new_ticket(personas, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.active
    assert endpoint.failing_since is not None
    # A day later, still failing.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    delivery = WebhookDelivery.objects.get()
    due_now(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        send_delivery(delivery.pk)

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_at is not None
    entry = AuditEntry.objects.get(kind=AuditKind.WEBHOOK, action="disabled")
    assert entry.target_label == f"webhook {receiver.url}"
    assert [m.to for m in mail.outbox] == [[personas.admin.email]]
    assert receiver.url in mail.outbox[0].subject
    # Nothing more is written or sent for it.
    new_ticket(personas, django_capture_on_commit_callbacks, "Another")
    assert WebhookDelivery.objects.count() == 1
    due_now(delivery)
    send_delivery(delivery.pk)
    assert len(receiver.received) == 2


def test_a_success_clears_the_failing_run(
    receiver: Receiver, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint, delivery = failed_once(receiver, personas, django_capture_on_commit_callbacks)
    due_now(delivery)
    send_delivery(delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None
