"""Forged mail: a subject tag alone never changes the Cc, and the sender's SPF, DKIM and
DMARC verdict (Authentication-Results of our own server) is shown, a failing one flagged."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import Personas
from tickets import services
from tickets.mail import bulk
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.mail.sender_auth import verdict
from tickets.models import Message, Status, Ticket
from tickets.rows import NotCovered

pytestmark = pytest.mark.django_db

ATTACKER = "eve@attacker.test"


@pytest.fixture(params=["in bulk", "one by one"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a message is stored: the batch path and the per-message path."""
    if request.param == "one by one":

        def not_covered(*args: Any, **kwargs: Any) -> Any:
            raise NotCovered("test: the per-message path")

        monkeypatch.setattr(bulk, "store_batch", not_covered)
    return str(request.param)


def _mail(n: str, subject: str, headers: str = "", *, sender: str = "li@customer.test") -> bytes:
    return (
        f"From: Li Wei <{sender}>\nTo: a@tandem.test\nSubject: {subject}\n"
        f"Message-ID: <trust-{n}@customer.test>\n{headers}\nHello.\n"
    ).encode()


def _ticket(personas: Personas) -> Ticket:
    result = ingest_message(_mail("first", "Printer jammed", "Cc: boss@customer.test\n"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.cc == ["boss@customer.test"]
    return ticket


def test_a_forged_mail_with_the_subject_tag_alone_adds_nobody_to_cc(
    personas: Personas, path: str
) -> None:
    ticket = _ticket(personas)
    forged = _mail("forged", f"Re: Printer jammed [#{ticket.pk}]", f"Cc: {ATTACKER}\n")
    result = ingest_message(forged)
    # It still threads (the customer may have lost the headers), and shows its Cc...
    assert result.outcome == Outcome.ADDED and result.ticket_id == ticket.pk
    assert Message.objects.get(pk=result.message_pk).cc == [ATTACKER]
    # ...but the conversation's Cc, which the agent's next reply goes to, is unchanged.
    ticket.refresh_from_db()
    assert ticket.cc == ["boss@customer.test"]
    assert not ticket.events.filter(kind="cc").exists()


def test_a_reply_proven_by_its_headers_still_adds_its_cc(personas: Personas, path: str) -> None:
    ticket = _ticket(personas)
    reply = _mail(
        "reply",
        f"Re: Printer jammed [#{ticket.pk}]",
        "In-Reply-To: <trust-first@customer.test>\nCc: ana@customer.test\n",
    )
    assert ingest_message(reply).ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.cc == ["ana@customer.test", "boss@customer.test"]


def test_a_follow_up_opened_by_the_subject_tag_alone_takes_no_cc(
    personas: Personas, path: str
) -> None:
    ticket = _ticket(personas)
    services.update_ticket(ticket, actor=services.SYSTEM, status=Status.SOLVED)
    services.update_ticket(ticket, actor=services.SYSTEM, status=Status.CLOSED)
    forged = _mail("late", f"Re: Printer jammed [#{ticket.pk}]", f"Cc: {ATTACKER}\n")
    result = ingest_message(forged)
    follow_up = Ticket.objects.get(pk=result.ticket_id)
    assert result.outcome == Outcome.NEW_TICKET and follow_up.linked_from_id == ticket.pk
    assert follow_up.cc == []


OURS = "mx.tandem.test"
FAILING = (
    f"Authentication-Results: {OURS}; spf=softfail smtp.mailfrom=customer.test;"
    " dkim=none; dmarc=fail (p=reject) header.from=customer.test\n"
    # The sender's own claim, below ours: never read.
    "Authentication-Results: mx.attacker.test; spf=pass; dkim=pass; dmarc=pass\n"
)
PASSING = (
    f"Authentication-Results: {OURS};\n\tdkim=pass header.d=customer.test header.s=s1;\n"
    "\tspf=pass (sender SPF authorized) smtp.mailfrom=li@customer.test;\n"
    "\tdmarc=pass (p=none) header.from=customer.test\n"
)


def _page(personas: Personas, ticket_id: int | None) -> str:
    client = Client()
    client.force_login(personas.agent_a)
    response = client.get(reverse("tickets:detail", args=[ticket_id]))
    assert response.status_code == 200
    return response.content.decode()


@override_settings(MAIL_AUTHSERV_IDS=[OURS])
def test_a_failing_verdict_is_stored_and_flagged_on_the_ticket(
    personas: Personas, path: str
) -> None:
    result = ingest_message(_mail("failing", "Invoice", FAILING))
    message = Message.objects.get(pk=result.message_pk)
    assert (message.spf_result, message.dkim_result, message.dmarc_result) == (
        "softfail",
        "none",
        "fail",
    )
    page = _page(personas, result.ticket_id)
    assert "Sender not verified: SPF softfail, DMARC fail" in page


@override_settings(MAIL_AUTHSERV_IDS=[OURS])
def test_a_passing_verdict_is_shown_quietly(personas: Personas, path: str) -> None:
    result = ingest_message(_mail("passing", "Invoice", PASSING))
    message = Message.objects.get(pk=result.message_pk)
    assert (message.spf_result, message.dkim_result, message.dmarc_result) == ("pass",) * 3
    page = _page(personas, result.ticket_id)
    assert "SPF pass · DKIM pass · DMARC pass" in page
    assert "Sender not verified" not in page


@override_settings(MAIL_AUTHSERV_IDS=[OURS])
def test_a_verdict_only_the_sender_wrote_is_ignored(personas: Personas, path: str) -> None:
    forged = "Authentication-Results: mx.tandem.test.attacker.test; dmarc=pass\n"
    result = ingest_message(_mail("claims", "Invoice", forged))
    message = Message.objects.get(pk=result.message_pk)
    assert (message.spf_result, message.dkim_result, message.dmarc_result) == ("", "", "")
    assert "Sender not verified" not in _page(personas, result.ticket_id)


def test_which_headers_are_trusted() -> None:
    ours = f"{OURS}; dmarc=fail header.from=x.test"
    theirs = "mx.attacker.test; dmarc=pass"
    # No authserv-id configured: the topmost header only.
    assert verdict([ours, theirs], []) == {"dmarc": "fail"}
    assert verdict([theirs, ours], []) == {"dmarc": "pass"}
    # Configured: the headers at the top that carry our id, up to the first that does not.
    assert verdict([theirs, ours], [OURS]) == {}
    assert verdict([ours, theirs], [OURS.upper()]) == {"dmarc": "fail"}
    split = [f"{OURS}; spf=pass smtp.mailfrom=x.test", f"{OURS}; dkim=fail; dkim=pass"]
    assert verdict([*split, f"{OURS}; dmarc=fail"], [OURS]) == {
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "fail",
    }
    # Malformed or absent: nothing, never an error.
    assert verdict(["", ";;; = =", f"{OURS}; spf"], [OURS]) == {}
    assert verdict([], [OURS]) == {}


def test_the_reply_box_does_not_copy_a_forged_cc(personas: Personas) -> None:
    ticket = _ticket(personas)
    ingest_message(_mail("forged2", f"Re: Printer [#{ticket.pk}]", f"Cc: {ATTACKER}\n"))
    reply_cc = _page(personas, ticket.pk).split('name="cc"', 1)[1].split(">", 1)[0]
    assert "boss@customer.test" in reply_cc and ATTACKER not in reply_cc
