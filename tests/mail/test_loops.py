"""A mail loop with an auto-responder that does not say so stops within three rounds.

The responder answers each of our acknowledgements with a new subject and no threading
or Auto-Submitted headers. The loop runs through the real ingest path and the send task,
and the responder answers what really reached the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from tests.conftest import Personas
from tickets.mail import bulk
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_many, ingest_message
from tickets.models import Direction, Message, Ticket
from tickets.rows import NotCovered
from tickets.workflow import collab

pytestmark = pytest.mark.django_db

ROUNDS = 30


@pytest.fixture(params=["in bulk", "one by one"])
def acknowledging(
    request: pytest.FixtureRequest, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> Personas:
    if request.param == "one by one":

        def not_covered(*args: Any, **kwargs: Any) -> Any:
            raise NotCovered("test: the per-message path")

        monkeypatch.setattr(bulk, "store_batch", not_covered)
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save(update_fields=["auto_ack_enabled"])
    return personas


def _responder(n: int, bot: str, body: str) -> bytes:
    return (
        f"From: Acme Robot <{bot}>\nTo: a@tandem.test\nSubject: Your message #{1000 + n}\n"
        f"Message-ID: <bot-{n}@vendor.test>\n\n{body}\n"
    ).encode()


def _loop(bot: str, body_of: Any, django_capture_on_commit_callbacks: Any) -> list[Any]:
    """Run the loop: the responder writes once, then answers each mail it receives."""
    mail.outbox.clear()
    inbox: list[Any] = []
    pending = 1
    for n in range(ROUNDS):
        if not pending:
            break
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest_message(_responder(n, bot, body_of(n)))
        assert result.outcome == Outcome.NEW_TICKET  # its mail always lands
        received = [m for m in mail.outbox if bot in m.to]
        pending = len(received) - len(inbox)
        inbox = received
    return inbox


def _acks(bot: str) -> int:
    return Message.objects.filter(
        direction=Direction.OUTBOUND, automatic=True, ticket__customer__email=bot
    ).count()


def test_a_responder_repeating_itself_gets_few_acknowledgements(
    acknowledging: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    bot = "robot-alike@vendor.test"
    received = _loop(
        bot,
        lambda n: (
            f"Thank you for contacting Acme. This is an automatic answer: we received your "
            f"message and opened request {5000 + n}. We answer within two working days."
        ),
        django_capture_on_commit_callbacks,
    )
    assert 1 <= len(received) <= 3
    assert _acks(bot) == len(received)
    assert Ticket.objects.filter(customer__email=bot).count() <= 4


def test_a_responder_with_ever_new_text_is_capped(
    acknowledging: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    bot = "robot-varied@vendor.test"
    words = ["apple", "bridge", "cloud", "delta", "ember", "forest", "glacier", "harbor"]
    received = _loop(
        bot,
        lambda n: " ".join(words[(n + i) % len(words)] * (n + 1) for i in range(8)),
        django_capture_on_commit_callbacks,
    )
    assert len(received) == 3
    assert _acks(bot) == 3


@override_settings(MAIL_AUTO_REPLIES_PER_ADDRESS=100)
def test_a_rule_s_automatic_reply_is_capped_per_ticket(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    first = ingest_message(_responder(0, "robot-rule@vendor.test", "Hello."))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    sent = [collab.send_automatic_reply(ticket, "We got your message.") for _ in range(6)]
    assert sum(m is not None for m in sent) == 3
    assert _acks("robot-rule@vendor.test") == 3


def test_people_writing_different_things_are_each_acknowledged(
    acknowledging: Personas,
) -> None:
    for n, text in enumerate(["The printer is jammed.", "Please reset my password, thanks!"]):
        raw = (
            f"From: li@customer.test\nTo: a@tandem.test\nSubject: Question {n}\n"
            f"Message-ID: <person-{n}@customer.test>\n\n{text}\n"
        ).encode()
        ticket = Ticket.objects.get(pk=ingest_message(raw).ticket_id)
        assert ticket.messages.filter(direction=Direction.OUTBOUND, automatic=True).count() == 1


def test_a_batch_without_acknowledgements_is_stored_in_bulk(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_in_bulk: list[int] = []
    store_batch = bulk.store_batch

    def spy(items: Any, **kwargs: Any) -> Any:
        stored, refused = store_batch(items, **kwargs)
        stored_in_bulk.extend(done.index for done in stored)
        return stored, refused

    monkeypatch.setattr(bulk, "store_batch", spy)
    raws = [_responder(n, f"person{n}@vendor.test", f"Question {n}") for n in range(3)]
    assert [r.outcome for r in ingest_many(raws)] == [Outcome.NEW_TICKET] * 3
    assert stored_in_bulk == [0, 1, 2]
