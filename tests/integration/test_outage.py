"""The database is the record of what must be sent: a reply survives a broker outage when
it is posted and a mail server outage of an hour afterwards, and goes out exactly once.

Before, a reply posted while Redis was down answered the agent with a 500 and stayed
queued for ever (nothing looked at queued rows again), and one whose send failed longer
than its Celery retries lasted (about 31 minutes) stayed failed until a person noticed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from helpdesk.celery import app
from tests.conftest import Personas
from tests.integration.conftest import SmtpServer
from tests.mail.conftest import load
from tickets.mail import sending
from tickets.mail.intake import ingest_message
from tickets.models import DeliveryStatus, Direction, MailSecurity, Message, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _time_passes(message: Message, minutes: int) -> None:
    """The clock moves on: what was due in `minutes` is due now."""
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_reply_survives_a_broker_outage_then_an_hour_without_smtp_and_goes_out_once(
    personas: Personas,
    smtp_server: SmtpServer,
    media_root: Path,
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    box = personas.mailbox_a
    box.smtp_host, box.smtp_port = smtp_server.host, smtp_server.port
    box.smtp_security = MailSecurity.NONE
    box.save()
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    client = Client()
    client.force_login(personas.agent_a)

    # The broker is down when the agent replies: the page answers, the reply is kept.
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        response = client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": "We are on it.", "status_after": ""},
        )
    assert after_commit  # the send was handed to the (unreachable) broker
    assert response.status_code in (200, 302), response.content[:500]
    reply = ticket.messages.get(direction=Direction.OUTBOUND)
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert reply.next_attempt_at is not None and reply.next_attempt_at <= timezone.now()
    assert smtp_server.recorder.messages == []

    # The broker is back (tasks run here) and the mail server goes down for an hour.
    app.conf.task_always_eager = True
    try:
        smtp_server.stop()
        minutes = 0
        while minutes < 60:
            _time_passes(reply, 2)
            assert sending.send_due_messages() == 1
            reply.refresh_from_db()
            assert reply.delivery_status == DeliveryStatus.QUEUED, reply.delivery_error
            assert "Could not reach the mail server" in reply.delivery_error
            assert reply.next_attempt_at > timezone.now()
            minutes += int((reply.next_attempt_at - timezone.now()).total_seconds() // 60) + 1
        tries = reply.delivery_attempts
        assert tries >= 5

        # The mail server is back: the next due try sends it, and only once.
        smtp_server.restart()
        _time_passes(reply, 2)
        assert sending.send_due_messages() == 1
        _time_passes(reply, 2)
        assert sending.send_due_messages() == 0
    finally:
        app.conf.task_always_eager = False
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.delivery_attempts == tries + 1
    assert len(smtp_server.recorder.messages) == 1
