"""A message over the size limit on IMAP: kept as headers only, and a retry says so."""

from __future__ import annotations

import pytest

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets.mail import imap
from tickets.mail.ingest import Outcome
from tickets.mail.intake import retry_quarantined
from tickets.mail.models import QuarantinedEmail, QuarantineState
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


class HeaderOnlyServer:
    """Answers a UID FETCH of BODY.PEEK[HEADER] the way Dovecot does."""

    def __init__(self, uid: int, head: bytes) -> None:
        self.number, self.head = uid, head

    def uid(self, command: str, where: str, item: str) -> tuple[str, list[object]]:
        assert (command, where, item) == ("FETCH", str(self.number), "(BODY.PEEK[HEADER])")
        line = f"1 (UID {self.number} BODY[HEADER] {{{len(self.head)}}}".encode()
        return "OK", [(line, self.head), b")"]


def test_too_large_imap_message_is_kept_as_headers_and_a_retry_opens_no_ticket(
    personas: Personas, settings
) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 100
    head = load("plain.eml").split(b"\n\n", 1)[0] + b"\n\n"
    server = HeaderOnlyServer(7, head)
    result = imap._too_large(server, personas.mailbox_a, 7, 80_000)  # type: ignore[arg-type]
    assert result.outcome == Outcome.QUARANTINED and "left on the server" in result.reason
    entry = QuarantinedEmail.objects.get()
    # The list says who sent what.
    assert entry.from_address == "li@customer.test"
    assert entry.subject == "Printer on floor 3 is jammed"

    retried = retry_quarantined(entry)
    assert retried.outcome == Outcome.QUARANTINED
    assert "Only the headers were kept" in retried.reason
    entry.refresh_from_db()
    assert entry.state == QuarantineState.HELD and entry.attempts == 1
    assert entry.reason.startswith("Too large")
    assert not Ticket.objects.exists()
    # The same message seen again (a UIDVALIDITY change renumbers it) is the same entry.
    again = imap._too_large(server, personas.mailbox_a, 7, 80_000)  # type: ignore[arg-type]
    assert again.outcome == Outcome.DUPLICATE and QuarantinedEmail.objects.count() == 1
