"""Each auto-reply and bounce signal alone keeps the auto-acknowledgement from going out."""

from __future__ import annotations

import pytest

from tests.conftest import Personas
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.mail.parse import parse_message
from tickets.models import Direction, Message, Ticket

pytestmark = pytest.mark.django_db


def _mail(case: str, headers: str = "", *, sender: str = "", subject: str = "Help") -> bytes:
    sender = sender or f"loop-{case}@customer.test"
    return (
        f"From: {sender}\nTo: a@tandem.test\nSubject: {subject}\n"
        f"Message-ID: <loop-{case}@customer.test>\n{headers}\nPlease help.\n"
    ).encode()


AUTO_REPLIES = {
    "auto-submitted": "Auto-Submitted: auto-replied\n",
    "auto-generated": "Auto-Submitted: auto-generated\n",
    "x-autoreply": "X-Autoreply: yes\n",
    "x-autorespond": "X-Autorespond: yes\n",
    "bulk": "Precedence: bulk\n",
    "junk": "Precedence: junk\n",
    "list": "Precedence: list\n",
    "list-id": "List-Id: Announcements <news.customer.test>\n",
    "empty-return-path": "Return-Path: <>\n",
    "read-receipt": (
        "MIME-Version: 1.0\nContent-Type: multipart/report;"
        ' report-type=disposition-notification; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nYour message was displayed.\n--r--\n"
    ),
}


@pytest.fixture
def acknowledging(personas: Personas) -> Personas:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save(update_fields=["auto_ack_enabled"])
    return personas


def _acks(ticket_id: int | None) -> int:
    return Message.objects.filter(ticket_id=ticket_id, direction=Direction.OUTBOUND).count()


@pytest.mark.parametrize("case", AUTO_REPLIES)
def test_auto_reply_opens_a_ticket_without_acknowledgement(
    acknowledging: Personas, case: str
) -> None:
    result = ingest_message(_mail(case, AUTO_REPLIES[case]))
    assert result.outcome == Outcome.NEW_TICKET
    message = Ticket.objects.get(pk=result.ticket_id).messages.get()
    assert message.automatic
    assert _acks(result.ticket_id) == 0


def test_a_person_s_mail_is_acknowledged(acknowledging: Personas) -> None:
    # The control: "Auto-Submitted: no" is a person (RFC 3834).
    result = ingest_message(_mail("person", "Auto-Submitted: no\n"))
    assert result.outcome == Outcome.NEW_TICKET and _acks(result.ticket_id) == 1


BOUNCES = {
    "mailer-daemon": _mail("daemon", sender="MAILER-DAEMON@mx.customer.test"),
    "postmaster": _mail("postmaster", sender="postmaster@mx.customer.test"),
    "delivery-report": _mail(
        "report",
        "MIME-Version: 1.0\nContent-Type: multipart/report;"
        ' report-type=delivery-status; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nNot delivered.\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.customer.test\n\nFinal-Recipient: rfc822; li@customer.test\n"
        "Action: failed\nStatus: 5.1.1\n\n--r--\n",
    ),
    "empty-path-failure": _mail(
        "nopath", "Return-Path: <>\n", subject="Delivery Status Notification (Failure)"
    ),
}


@pytest.mark.parametrize("case", BOUNCES)
def test_each_bounce_signal_alone_is_a_bounce_and_never_acknowledged(
    acknowledging: Personas, case: str
) -> None:
    assert parse_message(BOUNCES[case]).is_bounce
    result = ingest_message(BOUNCES[case])
    # A bounce for nothing we sent is kept for a person, never a ticket or an answer.
    assert result.outcome == Outcome.QUARANTINED and "Bounce" in result.reason
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


@pytest.mark.parametrize("sender", ["no-reply@shop.test", "DoNotReply@bank.test"])
def test_a_no_reply_sender_is_not_acknowledged(acknowledging: Personas, sender: str) -> None:
    # No Reply-To names a person: the ticket is the relay's, and an acknowledgement to
    # it would bounce or start a loop with its own auto-answer.
    result = ingest_message(_mail("noreply", sender=sender))
    assert result.outcome == Outcome.NEW_TICKET
    assert Ticket.objects.get(pk=result.ticket_id).customer.email == sender.lower()
    assert _acks(result.ticket_id) == 0


def test_a_relay_with_reply_to_acknowledges_the_person(acknowledging: Personas) -> None:
    mail = _mail("relay", "Reply-To: Ana <ana@customer.test>\n", sender="no-reply@forms.test")
    result = ingest_message(mail)
    ack = Message.objects.get(ticket_id=result.ticket_id, direction=Direction.OUTBOUND)
    assert ack.to == ["ana@customer.test"]
