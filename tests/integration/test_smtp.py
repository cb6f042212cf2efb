"""Sending over SMTP to a real (aiosmtpd) server: headers, exactly-once, failures."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.conftest import Personas
from tests.integration.conftest import SmtpServer
from tests.mail.conftest import load
from tickets import services
from tickets.mail import delivery, sending
from tickets.mail.intake import ingest_message
from tickets.mail.outbound import check_smtp, send_message, sweep_stuck_sends
from tickets.mail.tokens import ticket_from_address
from tickets.models import Attachment, DeliveryStatus, MailSecurity, Message, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def ticket(personas: Personas, smtp_server: SmtpServer, media_root: Path) -> Ticket:
    box = personas.mailbox_a
    box.smtp_host, box.smtp_port = smtp_server.host, smtp_server.port
    box.smtp_security, box.from_name, box.signature = MailSecurity.NONE, "Acme Support", "Acme"
    box.save()
    return Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)


def test_reply_goes_out_once_with_thread_headers_and_attachments(
    ticket: Ticket, personas: Personas, smtp_server: SmtpServer
) -> None:
    reply = services.reply(
        ticket, personas.agent_a, "We sent a technician.", cc=["boss@customer.test"]
    )
    Attachment.objects.create(
        message=reply,
        file=ContentFile(b"%PDF-1.4 manual", name="manual.pdf"),
        filename="manual.pdf",
        content_type="application/pdf",
        size=15,
    )
    assert send_message(reply.pk) == "sent"
    assert send_message(reply.pk) == "not claimable"
    assert len(smtp_server.recorder.messages) == 1
    sent = smtp_server.recorder.messages[0]
    assert sorted(sent["rcpt_tos"]) == ["boss@customer.test", "li@customer.test"]
    email = message_from_bytes(sent["data"], policy=policy.default)
    reply.refresh_from_db()
    assert email["Message-ID"] == f"<{reply.message_id}>"
    assert email["In-Reply-To"] == "<plain-1@customer.test>"
    assert "<plain-1@customer.test>" in email["References"]
    assert email["From"] == "Acme Support <a@tandem.test>"
    assert ticket_from_address(email["Reply-To"].addresses[0].addr_spec) == ticket.pk
    assert f"[#{ticket.pk}]" in email["Subject"]
    text = email.get_body(("plain",)).get_content()
    assert "We sent a technician." in text
    assert f"/portal/requests/{ticket.pk}/" in text  # straight to the conversation
    assert [a.get_filename() for a in email.iter_attachments()] == ["manual.pdf"]
    assert reply.delivery_status == DeliveryStatus.SENT and reply.sent_at
    assert reply.delivery_attempts == 1
    assert ticket.events.filter(kind="delivery", after="sent", message=reply).exists()


def test_connection_dropped_mid_send_is_retried_and_sent_once(
    ticket: Ticket, personas: Personas, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.drop_next = 1
    reply = services.reply(ticket, personas.agent_a, "Second try works.")
    assert send_message(reply.pk) == "retrying"
    reply.refresh_from_db()
    # Queued again, due after the first delay, with the reason for the agent to see.
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert "closed the connection" in reply.delivery_error
    assert reply.next_attempt_at > timezone.now()
    assert smtp_server.recorder.messages == []
    assert send_message(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.delivery_attempts == 2
    assert len(smtp_server.recorder.messages) == 1


def test_permanent_refusal_fails_with_the_servers_words_and_an_agent_can_retry(
    ticket: Ticket, personas: Personas, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.reject_with = "554 5.7.1 Message rejected as spam"
    reply = services.reply(ticket, personas.agent_a, "Hello")
    assert send_message(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "The mail server answered 554: 5.7.1 Message rejected as spam"
    smtp_server.recorder.reject_with = ""
    assert sending.requeue(reply)
    assert not sending.requeue(reply)  # already queued: a double click does nothing
    assert send_message(reply.pk) == "sent"
    assert len(smtp_server.recorder.messages) == 1


def test_a_send_stuck_in_sending_is_failed_not_resent(
    ticket: Ticket, personas: Personas, smtp_server: SmtpServer
) -> None:
    reply = services.reply(ticket, personas.agent_a, "Hello")
    assert delivery.claim_for_sending(reply.pk)
    Message.objects.filter(pk=reply.pk).update(sending_since=timezone.now() - timedelta(hours=1))
    assert sweep_stuck_sends() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "uncertain" in reply.delivery_error
    assert send_message(reply.pk) == "sent"  # only because a person chose to (failed -> sent)
    assert len(smtp_server.recorder.messages) == 1


def test_smtp_connection_check(ticket: Ticket, smtp_server: SmtpServer) -> None:
    ok, text = check_smtp(ticket.mailbox)
    assert ok and "signed in" in text
    ticket.mailbox.smtp_port = 1
    ok, text = check_smtp(ticket.mailbox)
    assert not ok and "could not connect" in text
