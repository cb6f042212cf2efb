"""The inbound webhook: per-mailbox secret, size limit, stored at once and ingested in
the background by the same ingest as the other doors, once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests.conftest import Personas
from tests.mail.conftest import load
from tests.mail.test_hostile import nested_div
from tickets.mail import tasks
from tickets.mail.inbound import LOST_AFTER, STUCK_AFTER
from tickets.mail.models import InboundEmail, InboundState, QuarantinedEmail
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def post(client: Client, mailbox_id: int, raw: bytes, secret: str) -> Any:
    return client.post(
        f"/mail/inbound/{mailbox_id}/",
        data=raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {secret}"},
    )


@pytest.fixture
def deliver(eager_tasks: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Post, then run what the commit enqueued (the ingest task) in-process."""

    def post_and_ingest(client: Client, mailbox_id: int, raw: bytes, secret: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, mailbox_id, raw, secret)

    return post_and_ingest


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.ingest_inbound_task, "delay", refuse)
    yield


def test_webhook_ingests_into_its_mailbox(
    personas: Personas, client: Client, deliver: Callable[..., Any]
) -> None:
    box = personas.mailbox_b
    response = deliver(client, box.pk, load("plain.eml"), box.webhook_secret)
    assert response.status_code == 202 and response.json()["outcome"] == "accepted"
    entry = InboundEmail.objects.get(pk=response.json()["id"])
    ticket = Ticket.objects.get()
    assert ticket.mailbox == box
    assert (entry.state, entry.outcome, entry.ticket_id) == ("done", "new ticket", ticket.pk)
    assert not entry.raw  # the message lives in the ticket now
    again = deliver(client, box.pk, load("plain.eml"), box.webhook_secret)
    assert again.status_code == 202 and again.json()["outcome"] == "received before"
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1


def test_webhook_quarantines_garbage_in_the_background(
    personas: Personas, client: Client, deliver: Callable[..., Any]
) -> None:
    box = personas.mailbox_a
    response = deliver(client, box.pk, load("no_headers.eml"), box.webhook_secret)
    assert response.status_code == 202
    entry = InboundEmail.objects.get()
    assert (entry.state, entry.outcome) == ("done", "quarantined")
    assert QuarantinedEmail.objects.get().source == "webhook"


def test_a_hostile_message_is_answered_at_once_and_quarantined_in_the_background(
    personas: Personas, client: Client, django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    box = personas.mailbox_a
    raw = nested_div()
    with django_capture_on_commit_callbacks() as enqueued:
        response = post(client, box.pk, raw, box.webhook_secret)
    # The answer comes before any parsing: the raw bytes are stored, nothing else yet.
    assert response.status_code == 202
    entry = InboundEmail.objects.get()
    assert entry.state == InboundState.RECEIVED and entry.size == len(raw)
    assert QuarantinedEmail.objects.count() == 0 and len(enqueued) == 1
    enqueued[0]()  # the worker runs the task
    entry.refresh_from_db()
    assert (entry.state, entry.outcome) == ("done", "quarantined")
    kept = QuarantinedEmail.objects.get()
    assert kept.reason.startswith("Over a safety limit: HTML nested too deep")
    with kept.raw.open("rb") as handle:
        assert handle.read() == raw
    assert Ticket.objects.count() == 0


def test_a_message_becomes_one_ticket_however_often_its_task_runs(
    personas: Personas, client: Client, deliver: Callable[..., Any]
) -> None:
    box = personas.mailbox_a
    response = deliver(client, box.pk, load("plain.eml"), box.webhook_secret)
    entry_id = response.json()["id"]
    tasks.ingest_inbound_task(entry_id)
    tasks.ingest_inbound_task(entry_id)
    tasks.sweep_inbound()
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert InboundEmail.objects.get().attempts == 1


def test_with_the_broker_down_the_sweep_ingests_the_stored_message_once(
    personas: Personas, client: Client, deliver: Callable[..., Any], broker_down: None
) -> None:
    box = personas.mailbox_a
    response = deliver(client, box.pk, load("plain.eml"), box.webhook_secret)
    assert response.status_code == 202  # stored, though no task could be queued
    entry = InboundEmail.objects.get()
    assert entry.state == InboundState.RECEIVED and Ticket.objects.count() == 0
    tasks.sweep_inbound()  # too early: the task may still come
    assert Ticket.objects.count() == 0
    InboundEmail.objects.update(received_at=timezone.now() - LOST_AFTER - timedelta(seconds=1))
    # The broker is back; the sweep's task and a late copy of the first both run.
    tasks.ingest_inbound_task.delay = tasks.ingest_inbound_task  # type: ignore[method-assign]
    tasks.sweep_inbound()
    tasks.ingest_inbound_task(entry.pk)
    entry.refresh_from_db()
    assert (entry.state, entry.outcome) == ("done", "new ticket")
    assert Ticket.objects.count() == 1


def test_a_claim_a_dead_worker_left_is_taken_again_and_given_up_after_three(
    personas: Personas, client: Client, deliver: Callable[..., Any], broker_down: None
) -> None:
    box = personas.mailbox_a
    deliver(client, box.pk, load("plain.eml"), box.webhook_secret)
    long_ago = timezone.now() - STUCK_AFTER - timedelta(seconds=1)
    # Three workers died while ingesting it (claimed, never done).
    InboundEmail.objects.update(state=InboundState.INGESTING, claimed_at=long_ago, attempts=3)
    tasks.ingest_inbound_task(InboundEmail.objects.get().pk)
    entry = InboundEmail.objects.get()
    assert (entry.state, entry.outcome) == ("done", "quarantined")
    assert "stopped 3 times" in QuarantinedEmail.objects.get().reason
    assert Ticket.objects.count() == 0


def test_webhook_refuses_wrong_secret_other_mailbox_secret_and_get(
    personas: Personas, client: Client
) -> None:
    a, b = personas.mailbox_a, personas.mailbox_b
    assert post(client, a.pk, load("plain.eml"), "wrong").status_code == 401
    assert post(client, a.pk, load("plain.eml"), b.webhook_secret).status_code == 401
    assert post(client, 999999, load("plain.eml"), a.webhook_secret).status_code == 401
    assert client.get(f"/mail/inbound/{a.pk}/").status_code == 405
    assert Ticket.objects.count() == 0


@override_settings(MAIL_MAX_MESSAGE_BYTES=3000, MAX_UPLOAD_BYTES=1000)
def test_webhook_takes_what_the_other_mail_doors_take_and_413_above(
    personas: Personas, client: Client, settings: object, deliver: Callable[..., Any]
) -> None:
    box = personas.mailbox_a
    # Over the upload limit (and so over Django's in-memory body limit, set from it) but
    # within the mail limit, as a big attachment is once encoded: stored.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # type: ignore[attr-defined]
    fits = load("plain.eml") + b"\n" + b"x" * 1500 + b"\n"
    assert len(fits) > 1000
    response = deliver(client, box.pk, fits, box.webhook_secret)
    assert response.status_code == 202
    big = load("plain.eml").replace(b"Message-ID: <", b"Message-ID: <big-") + b"x" * 3000
    response = post(client, box.pk, big, box.webhook_secret)
    assert response.status_code == 413
    assert response.json() == {"error": "The message is larger than 3000 bytes."}
    assert Ticket.objects.count() == 1


def test_agent_retries_a_failed_delivery_once(
    personas: Personas, client: Client, deliver: Callable[..., Any]
) -> None:
    from tickets import services
    from tickets.models import DeliveryStatus

    deliver(client, personas.mailbox_a.pk, load("plain.eml"), personas.mailbox_a.webhook_secret)
    ticket = Ticket.objects.get()
    reply = services.reply(ticket, personas.agent_a, "Hello")
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.FAILED, delivery_error="421 try later"
    )
    url = f"/tickets/{ticket.pk}/messages/{reply.pk}/retry/"
    client.force_login(personas.agent_a)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert "Retry sending" in page.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert client.post(url).status_code == 302  # a second click changes nothing
    assert ticket.events.filter(kind="delivery", after="queued").count() == 1
    # Another team's agent gets a 404; GET is not allowed.
    client.force_login(personas.agent_b)
    assert client.post(url).status_code == 404
    client.force_login(personas.agent_a)
    assert client.get(url).status_code == 405
