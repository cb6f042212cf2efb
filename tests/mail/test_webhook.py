"""The inbound webhook: per-mailbox secret, size limit, same ingest as the other doors."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def post(client: Client, mailbox_id: int, raw: bytes, secret: str) -> object:
    return client.post(
        f"/mail/inbound/{mailbox_id}/",
        data=raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_webhook_ingests_into_its_mailbox(personas: Personas, client: Client) -> None:
    box = personas.mailbox_b
    response = post(client, box.pk, load("plain.eml"), box.webhook_secret)
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["ticket"])
    assert ticket.mailbox == box and response.json()["outcome"] == "new ticket"
    again = post(client, box.pk, load("plain.eml"), box.webhook_secret)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Ticket.objects.count() == 1


def test_webhook_quarantines_garbage_with_202(personas: Personas, client: Client) -> None:
    box = personas.mailbox_a
    response = post(client, box.pk, load("no_headers.eml"), box.webhook_secret)
    assert response.status_code == 202 and response.json()["outcome"] == "quarantined"


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
    personas: Personas, client: Client, settings: object
) -> None:
    box = personas.mailbox_a
    # Over the upload limit (and so over Django's in-memory body limit, set from it) but
    # within the mail limit, as a big attachment is once encoded: stored.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # type: ignore[attr-defined]
    fits = load("plain.eml") + b"\n" + b"x" * 1500 + b"\n"
    assert len(fits) > 1000
    response = post(client, box.pk, fits, box.webhook_secret)
    assert response.status_code == 201
    big = load("plain.eml").replace(b"Message-ID: <", b"Message-ID: <big-") + b"x" * 3000
    response = post(client, box.pk, big, box.webhook_secret)
    assert response.status_code == 413
    assert response.json() == {"error": "The message is larger than 3000 bytes."}
    assert Ticket.objects.count() == 1


def test_agent_retries_a_failed_delivery_once(personas: Personas, client: Client) -> None:
    from tickets import services
    from tickets.models import DeliveryStatus, Message

    ticket = Ticket.objects.get(
        pk=post(
            client, personas.mailbox_a.pk, load("plain.eml"), personas.mailbox_a.webhook_secret
        ).json()["ticket"]
    )
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
