"""Mail that a lenient reader takes is taken, not quarantined: blank lines before the
headers, and the obsolete syntax of white space before a header's colon."""

from __future__ import annotations

import pytest

from tests.conftest import Personas
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

OBSOLETE = (
    b"From  : John Smith <john@customer.test>\r\n"
    b"To : support-a@tandem.test\r\n"
    b"Subject\t: Printer jammed\r\n"
    b"Message-ID : <obs-1@customer.test>\r\n"
    b"\r\n"
    b"Paper stuck : again.\r\n"
)


@pytest.mark.parametrize(
    "raw",
    [OBSOLETE, b"\r\n\r\n" + OBSOLETE.replace(b"From  :", b"From:"), b"\n \n" + OBSOLETE],
    ids=["obsolete header syntax", "blank lines first", "both"],
)
def test_mail_a_lenient_reader_takes_opens_a_ticket(personas: Personas, raw: bytes) -> None:
    result = ingest_message(raw, mailbox=personas.mailbox_a)
    assert result.outcome == Outcome.NEW_TICKET, result.reason
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.subject == "Printer jammed"
    assert ticket.customer.email == "john@customer.test"
    assert ticket.messages.get().body_text.strip() == "Paper stuck : again."
