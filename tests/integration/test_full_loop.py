"""The whole loop with a real Celery worker, Dovecot and an SMTP server.

Mail in over IMAP -> ticket -> agent reply sent over SMTP -> the customer's answer to
that sent message, fetched over IMAP, lands on the same ticket. Then a send whose SMTP
connection drops mid-send is retried by the worker and delivered exactly once.
"""

from __future__ import annotations

import subprocess
from email import message_from_bytes, policy

import pytest

from tests.factories import make_user
from tests.integration.conftest import Dovecot, SmtpServer, wait_for
from tests.mail.conftest import load
from tickets import services
from tickets.mail.tasks import poll_mailbox
from tickets.models import DeliveryStatus, Direction, Mailbox, MailSecurity, Message, Role, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailbox(imap_mailbox: Mailbox, smtp_server: SmtpServer) -> Mailbox:
    imap_mailbox.smtp_host, imap_mailbox.smtp_port = smtp_server.host, smtp_server.port
    imap_mailbox.smtp_security = MailSecurity.NONE
    imap_mailbox.save()
    return imap_mailbox


def test_mail_in_reply_out_answer_in_lands_on_the_same_ticket(
    celery_worker: subprocess.Popen[bytes],
    dovecot: Dovecot,
    imap_user: str,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
) -> None:
    agent = make_user(Role.AGENT)
    first_uid = dovecot.deliver(imap_user, load("plain.eml"))
    poll_mailbox.delay(mailbox.pk)
    ticket = wait_for(lambda: Ticket.objects.filter(mailbox=mailbox).first(), "the new ticket")
    assert ticket.customer.email == "li@customer.test"
    # Flagged after the commit that created the ticket, so wait for it rather than race.
    wait_for(lambda: r"\Seen" in dovecot.flags(imap_user)[first_uid], "the flag")

    reply = services.reply(ticket, agent, "A technician is on the way.")
    wait_for(lambda: smtp_server.recorder.messages, "the reply to reach the SMTP server")
    wait_for(
        lambda: Message.objects.filter(pk=reply.pk, delivery_status=DeliveryStatus.SENT).exists(),
        "the reply to be marked sent",
    )
    sent = message_from_bytes(smtp_server.recorder.messages[0]["data"], policy=policy.default)

    # The customer answers the email they received: their client threads by Message-ID
    # and writes to the Reply-To address.
    answer = (
        f"From: Li Wei <li@customer.test>\r\n"
        f"To: {sent['Reply-To']}\r\n"
        f"Subject: Re: {sent['Subject']}\r\n"
        f"Message-ID: <answer-1@customer.test>\r\n"
        f"In-Reply-To: {sent['Message-ID']}\r\n"
        f"References: {sent['References']} {sent['Message-ID']}\r\n"
        f"\r\nThank you, he fixed it.\r\n"
    ).encode()
    answer_uid = dovecot.deliver(imap_user, answer)
    poll_mailbox.delay(mailbox.pk)
    wait_for(
        lambda: Message.objects.filter(message_id="answer-1@customer.test").exists(),
        "the customer's answer to be stored",
    )
    ticket.refresh_from_db()
    directions = list(ticket.messages.values_list("direction", flat=True))
    assert directions == [Direction.INBOUND, Direction.OUTBOUND, Direction.INBOUND]
    assert Ticket.objects.count() == 1
    assert len(smtp_server.recorder.messages) == 1
    wait_for(lambda: r"\Seen" in dovecot.flags(imap_user)[answer_uid], "the answer's flag")


def test_worker_retries_a_dropped_send_and_delivers_exactly_once(
    celery_worker: subprocess.Popen[bytes],
    mailbox: Mailbox,
    smtp_server: SmtpServer,
    media_root: object,
) -> None:
    from tickets.mail.intake import ingest_message

    agent = make_user(Role.AGENT)
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml"), mailbox=mailbox).ticket_id)
    smtp_server.recorder.drop_next = 1
    reply = services.reply(ticket, agent, "This one survives a dropped connection.")
    wait_for(
        lambda: Message.objects.filter(pk=reply.pk, delivery_status=DeliveryStatus.SENT).exists(),
        "the retried send to succeed",
    )
    reply.refresh_from_db()
    assert reply.delivery_attempts == 2
    assert len(smtp_server.recorder.messages) == 1
    assert list(
        ticket.events.filter(kind="delivery", message=reply).values_list("after", flat=True)
    ) == [DeliveryStatus.QUEUED, DeliveryStatus.SENT]  # queued again after the drop, then sent
