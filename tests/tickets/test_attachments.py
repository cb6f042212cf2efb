"""One attachment saver: a file comes out the same whichever door it came through."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.models import Attachment, Direction, Message

pytestmark = pytest.mark.django_db

DATA = b"%PDF-1.4 pretend"
# A type browsers and mail clients may declare that no file name suggests.
DECLARED = "application/x-acme-report"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, DATA, content_type=DECLARED)


def _stored(message: Message) -> tuple[str, str, int, bytes]:
    attachment = Attachment.objects.get(message=message)
    with attachment.file.open("rb") as handle:
        return attachment.filename, attachment.content_type, attachment.size, handle.read()


def _mail_with_file(personas: Personas, filename: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Li Wei <{personas.customer.email}>"
    mail["To"] = personas.mailbox_a.address
    mail["Subject"] = "The report"
    mail["Message-ID"] = "<report-1@customer.test>"
    mail.set_content("Report attached.")
    maintype, subtype = DECLARED.split("/")
    mail.add_attachment(DATA, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def test_a_file_is_stored_alike_by_agent_portal_and_mail(personas: Personas) -> None:
    # The name people see never carries a folder; the declared type is kept.
    expected = ("Q3 report.pdf", DECLARED, len(DATA), DATA)

    agent = Client()
    agent.force_login(personas.agent_a)
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = agent.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Here is ours.", "attachments": [_upload("Q3 report.pdf")]},
    )
    assert response.status_code == 302
    by_agent = ticket.messages.get(direction=Direction.OUTBOUND)
    assert _stored(by_agent) == expected

    customer = Client()
    customer.force_login(personas.customer.user)
    response = customer.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "And mine.", "attachments": [_upload("Q3 report.pdf")]},
    )
    assert response.status_code == 302
    by_portal = ticket.messages.filter(direction=Direction.INBOUND).latest("id")
    assert _stored(by_portal) == expected

    result = ingest_message(_mail_with_file(personas, "reports/Q3 report.pdf"))
    assert result.outcome == Outcome.NEW_TICKET
    assert _stored(Message.objects.get(pk=result.message_pk)) == expected


def test_a_name_with_nothing_safe_on_disk_is_stored_under_a_plain_one(
    personas: Personas,
) -> None:
    """Control characters are dropped from the name shown; a name the disk cannot take
    is stored as "attachment" (the mail was quarantined for it)."""
    result = ingest_message(_mail_with_file(personas, "\u202e???\x07"))
    assert result.outcome == Outcome.NEW_TICKET, result.reason
    stored = Attachment.objects.get(message_id=result.message_pk)
    assert stored.filename == "???"
    assert stored.file.name.endswith("/attachment")
