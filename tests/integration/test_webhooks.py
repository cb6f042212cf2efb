"""Webhooks across real processes: a Celery worker sends a signed delivery to a receiver
on localhost; with Redis down nothing is lost, and the sweep sends each delivery once."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from helpdesk.celery import app
from tests.conftest import Personas
from tests.integration.conftest import wait_for
from tests.webhooks.receiver import Receiver, running_receiver
from tickets import services
from webhooks import services as webhook_services
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tasks import send_delivery, sweep_deliveries

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """The receiver on loopback, allowed here and in a worker started after this."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "1")
    yield from running_receiver()


@pytest.fixture
def worker(receiver: Receiver, celery_worker: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    return celery_worker


def _ticket(personas: Personas, subject: str) -> None:
    services.create_ticket(
        mailbox=personas.mailbox_a,
        customer=personas.customer,
        subject=subject,
        body_text="Hello",
        actor=services.Actor.agent(personas.agent_a),
    )


def test_a_worker_sends_a_signed_delivery_in_order(
    personas: Personas, receiver: Receiver, worker: subprocess.Popen[bytes]
) -> None:
    endpoint = webhook_services.create_endpoint(
        url=receiver.url, events=["ticket.created", "message.created"], actor=personas.admin
    )
    receiver.secret = endpoint.secret
    _ticket(personas, "From the worker")

    wait_for(lambda: len(receiver.received) == 2, "two deliveries at the receiver")
    assert receiver.events == ["ticket.created", "message.created"]
    assert all(r.verified for r in receiver.received)
    assert receiver.received[0].json["data"]["subject"] == "From the worker"
    # The worker records the answer after the receiver has the request.
    wait_for(
        lambda: set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"},
        "both deliveries recorded as delivered",
    )
    assert len(receiver.received) == 2


def test_with_redis_down_the_sweep_sends_each_delivery_exactly_once(
    personas: Personas,
    receiver: Receiver,
    redis_down: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = webhook_services.create_endpoint(
        url=receiver.url, events=["ticket.created"], actor=personas.admin
    )
    receiver.secret = endpoint.secret
    with caplog.at_level(logging.WARNING, logger="helpdesk.celery"):
        _ticket(personas, "Broker gone")  # committed; its send task could not be queued
    assert "webhooks.send_delivery not enqueued" in caplog.text
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert receiver.received == []

    # The sweep leaves a delivery its task may still hold; a minute on, it takes it.
    assert sweep_deliveries() == 0
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    app.conf.task_always_eager = True  # the broker is still down: tasks run here
    try:
        assert sweep_deliveries() == 1
        assert sweep_deliveries() == 0  # delivered: nothing left
        send_delivery(delivery.pk)  # a late copy of the lost task does nothing
    finally:
        app.conf.task_always_eager = False
    assert len(receiver.received) == 1
    assert receiver.received[0].verified
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1


def test_a_delivery_whose_worker_died_while_sending_is_sent_again_by_the_sweep(
    personas: Personas, receiver: Receiver, broker_down: None
) -> None:
    endpoint = webhook_services.create_endpoint(
        url=receiver.url, events=["ticket.created"], actor=personas.admin
    )
    receiver.secret = endpoint.secret
    _ticket(personas, "Worker died")
    ten_minutes_ago = timezone.now() - timedelta(minutes=10)
    WebhookDelivery.objects.update(
        status=DeliveryStatus.SENDING, claimed_at=ten_minutes_ago, attempts=1
    )
    app.conf.task_always_eager = True
    try:
        sweep_deliveries()  # released now, due at once, taken by the next sweep
        WebhookDelivery.objects.update(next_attempt_at=ten_minutes_ago)
        sweep_deliveries()
    finally:
        app.conf.task_always_eager = False
    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    # The receiver recognises the repeat by its id, the one the lost attempt carried.
    assert receiver.received[0].headers["Tandem-Delivery"] == str(delivery.delivery_id)
