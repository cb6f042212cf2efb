"""The one ingest function: tickets, threading, idempotency, loop safety, quarantine."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets import services
from tickets.mail import redis
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message, retry_quarantined
from tickets.mail.models import QuarantinedEmail, QuarantineState
from tickets.models import Attachment, DeliveryStatus, Direction, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def test_new_ticket_from_plain_mail(personas: Personas) -> None:
    result = ingest_message(load("plain.eml"))
    assert result.outcome == Outcome.NEW_TICKET
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.mailbox == personas.mailbox_a
    assert ticket.customer == personas.customer
    assert ticket.subject == "Printer on floor 3 is jammed"
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.message_id == "plain-1@customer.test"
    assert message.from_address == "li@customer.test"
    assert ticket.events.filter(kind="created", actor_kind="mail").exists()


def test_same_message_twice_changes_nothing(personas: Personas) -> None:
    ingest_message(load("plain.eml"))
    again = b"Received: by another.mx; Tue, 3 Nov 2026\n" + load("plain.eml")
    assert ingest_message(again).outcome == Outcome.DUPLICATE
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_variant_with_reused_message_id_is_not_dropped(personas: Personas) -> None:
    ingest_message(load("plain.eml"))
    result = ingest_message(load("variant_same_message_id.eml"))
    assert result.outcome in (Outcome.ADDED, Outcome.NEW_TICKET)
    assert Message.objects.count() == 2


def test_message_without_message_id_deduplicates_by_content(personas: Personas) -> None:
    assert ingest_message(load("no_message_id.eml")).outcome == Outcome.NEW_TICKET
    assert ingest_message(load("no_message_id.eml")).outcome == Outcome.DUPLICATE


def test_reply_threads_by_in_reply_to_and_reopens_solved(personas: Personas) -> None:
    first = ingest_message(load("plain.eml"))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    services.update_ticket(ticket, status=Status.SOLVED)
    result = ingest_message(load("reply.eml"))
    assert result.outcome == Outcome.ADDED and result.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.message_count == 2


def test_reply_to_closed_ticket_opens_linked_follow_up(personas: Personas) -> None:
    first = ingest_message(load("plain.eml"))
    old = Ticket.objects.get(pk=first.ticket_id)
    services.update_ticket(old, status=Status.CLOSED)
    result = ingest_message(load("reply.eml"))
    assert result.outcome == Outcome.NEW_TICKET
    follow_up = Ticket.objects.get(pk=result.ticket_id)
    assert follow_up.linked_from == old
    old.refresh_from_db()
    assert old.status == Status.CLOSED


def test_threading_by_references_across_mailboxes(personas: Personas) -> None:
    first = ingest_message(load("plain.eml"))
    raw = load("reply.eml").replace(b"To: Support A <a@tandem.test>", b"To: b@tandem.test")
    raw = raw.replace(b"In-Reply-To: <plain-1@customer.test>\n", b"")
    raw = raw.replace(
        b"References: <plain-1@customer.test>", b"References: <x@y.test>\n <plain-1@customer.test>"
    )
    assert ingest_message(raw).ticket_id == first.ticket_id


def test_threading_by_signed_reply_address_and_subject_token(personas: Personas) -> None:
    from tickets.mail.tokens import reply_address

    first = ingest_message(load("plain.eml"))
    number = first.ticket_id
    by_address = load("no_message_id.eml").replace(
        b"To: a@tandem.test", f"To: {reply_address('a@tandem.test', number)}".encode()
    )
    assert ingest_message(by_address).ticket_id == number
    forged = by_address.replace(f"+t{number}-".encode(), f"+t{number}-0".encode())
    assert ingest_message(forged).outcome == Outcome.NEW_TICKET

    by_subject = load("plain.eml").replace(b"Message-ID: <plain-1", b"Message-ID: <subj-1")
    by_subject = by_subject.replace(b"Subject: Printer", f"Subject: [#{number}] Printer".encode())
    assert ingest_message(by_subject).ticket_id == number
    # The subject tag is unsigned: a stranger cannot post into someone else's ticket.
    stranger = by_subject.replace(b"li@customer.test", b"mallory@evil.test")
    assert ingest_message(stranger).ticket_id != number


def test_attachments_and_inline_images_are_stored(personas: Personas) -> None:
    result = ingest_message(load("inline_cid.eml"))
    files = {a.content_type: a for a in Attachment.objects.filter(message_id=result.message_pk)}
    assert files["image/png"].inline and files["image/png"].content_id == "shot1@customer.test"
    assert files["application/pdf"].filename == "Résumé.pdf"
    assert files["application/pdf"].file.read().startswith(b"%PDF")


def test_cc_and_customer_from_reply_to_of_a_no_reply_sender(personas: Personas) -> None:
    raw = load("plain.eml").replace(
        b"From: Li Wei <li@customer.test>",
        b"From: Web form <no-reply@forms.test>\n"
        b"Reply-To: Dana <dana@customer.test>\nCc: x@customer.test",
    )
    ticket = Ticket.objects.get(pk=ingest_message(raw).ticket_id)
    assert ticket.customer.email == "dana@customer.test"
    assert ticket.messages.get().cc == ["x@customer.test"]
    assert ticket.cc == ["x@customer.test"]


def test_cc_joins_the_thread_without_our_addresses_or_the_customer(personas: Personas) -> None:
    first = load("plain.eml").replace(
        b"From: Li Wei <li@customer.test>",
        b"From: Li Wei <li@customer.test>\n"
        + f"Cc: Boss <BOSS@customer.test>, {personas.mailbox_b.address}".encode(),
    )
    ticket = Ticket.objects.get(pk=ingest_message(first).ticket_id)
    assert ticket.cc == ["boss@customer.test"]
    # The boss answers all, copying the customer and a colleague: both join the thread,
    # the customer (already the requester) does not.
    reply = (
        f"From: Boss <boss@customer.test>\nTo: {personas.mailbox_a.address}\n"
        "Cc: li@customer.test, ana@customer.test\nSubject: Re: Printer\n"
        "Message-ID: <boss-1@customer.test>\nIn-Reply-To: <plain-1@customer.test>\n\nAny news?\n"
    ).encode()
    assert ingest_message(reply).ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.cc == ["ana@customer.test", "boss@customer.test"]


def test_unparseable_mail_is_quarantined_once_and_retry_keeps_it(personas: Personas) -> None:
    result = ingest_message(load("no_headers.eml"))
    assert result.outcome == Outcome.QUARANTINED and "headers" in result.reason
    entry = QuarantinedEmail.objects.get()
    assert entry.raw.read() == load("no_headers.eml")
    assert ingest_message(load("no_headers.eml")).outcome == Outcome.DUPLICATE
    assert retry_quarantined(entry).outcome == Outcome.QUARANTINED
    entry.refresh_from_db()
    assert entry.attempts == 2 and entry.state == QuarantineState.HELD


@override_settings(MAIL_RATE_LIMIT_PER_HOUR=3)
def test_rate_limit_quarantines_a_mail_storm_and_retry_releases(personas: Personas) -> None:
    # A sender no other test uses: parallel test workers share one Redis.
    sender = "storm-7f3a@customer.test"

    def storm_message(n: int) -> bytes:
        raw = load("no_message_id.eml").replace(b"Subject: A", f"Subject: {n} A".encode())
        return raw.replace(b"nomid@customer.test", sender.encode())

    assert ingest_message(storm_message(0)).outcome == Outcome.NEW_TICKET
    # The storm so far: the hour's counter has reached the limit.
    cache.set(redis.sender_rate().cache_key(sender), 3, timeout=3700)
    result = ingest_message(storm_message(1))
    assert result.outcome == Outcome.QUARANTINED and "Rate limit" in result.reason
    entry = QuarantinedEmail.objects.get(pk=result.quarantine_id)
    assert retry_quarantined(entry).outcome == Outcome.NEW_TICKET
    entry.refresh_from_db()
    assert entry.state == QuarantineState.RELEASED and entry.ticket_id
    # Other senders are not affected.
    assert ingest_message(load("plain.eml")).outcome == Outcome.NEW_TICKET


def test_own_outgoing_message_fetched_back_is_ignored(personas: Personas) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    reply = services.reply(ticket, personas.agent_a, "We are on it.")
    reply.refresh_from_db()
    own = (
        f"From: a@tandem.test\nTo: li@customer.test\nSubject: Re: x\n"
        f"Message-ID: <{reply.message_id}>\n\nWe are on it.\n"
    ).encode()
    assert ingest_message(own).outcome == Outcome.DUPLICATE
    assert ticket.messages.count() == 2


def test_mail_from_our_own_address_is_refused_as_a_loop(personas: Personas) -> None:
    raw = load("no_message_id.eml").replace(b"From: nomid@customer.test", b"From: b@tandem.test")
    result = ingest_message(raw)
    assert result.outcome == Outcome.QUARANTINED and "loop" in result.reason


def test_bounce_marks_our_message_undelivered_on_its_ticket(personas: Personas) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    reply = services.reply(ticket, personas.agent_a, "We are on it.")
    reply.refresh_from_db()
    result = ingest_message(load("bounce.eml", BOUNCED_ID=reply.message_id))
    assert result.outcome == Outcome.ADDED and result.ticket_id == ticket.pk
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.UNDELIVERED
    assert "550 5.1.1" in reply.delivery_error
    bounce = Message.objects.get(pk=result.message_pk)
    assert bounce.automatic
    assert ticket.events.filter(kind="delivery", after="undelivered").exists()
    # A bounce for nothing we sent is kept in the quarantine, not turned into a ticket.
    stray = ingest_message(load("bounce.eml", BOUNCED_ID="unknown@elsewhere.test"))
    assert stray.outcome == Outcome.QUARANTINED


def test_auto_ack_for_new_ticket_but_never_for_auto_replies(personas: Personas) -> None:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save()
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.automatic and ack.delivery_status == DeliveryStatus.QUEUED
    assert f"[#{ticket.pk}]" in ack.subject and ack.to == ["li@customer.test"]
    assert ack.in_reply_to == "plain-1@customer.test"
    auto = Ticket.objects.get(pk=ingest_message(load("auto_reply.eml")).ticket_id)
    assert not auto.messages.filter(direction=Direction.OUTBOUND).exists()
    bounce_like = load("no_message_id.eml").replace(b"From: nomid", b"Return-Path: <>\nFrom: nomid")
    quiet = Ticket.objects.get(pk=ingest_message(bounce_like).ticket_id)
    assert not quiet.messages.filter(direction=Direction.OUTBOUND).exists()


def test_auto_reply_does_not_reopen_a_solved_ticket(personas: Personas) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, status=Status.SOLVED)
    raw = load("auto_reply.eml").replace(
        b"Auto-Submitted", b"In-Reply-To: <plain-1@customer.test>\nAuto-Submitted"
    )
    assert ingest_message(raw).ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_no_exception_escapes_for_garbage(personas: Personas) -> None:
    for raw in [b"\x00\xff" * 100, b"From: \n\n", b"Subject: only\n\nbody", b"\r\r\r"]:
        assert ingest_message(raw).outcome in (Outcome.QUARANTINED, Outcome.DUPLICATE)
