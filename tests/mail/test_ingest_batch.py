"""ingest_many: a batch in one transaction gives each message the outcome it gets alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets import services
from tickets.mail import ingest
from tickets.mail.bench import mixed_messages
from tickets.mail.ingest import IngestResult, Outcome, chunked, ingest_many, ingest_message
from tickets.models import Attachment, Message, QuarantinedEmail, Ticket

pytestmark = pytest.mark.django_db


def _messages(run_id: str, to: str) -> list[bytes]:
    """The bench mix (replies threading onto earlier messages of the same batch,
    auto-replies, HTML, Latin-1, attachments, garbage) plus a redelivery and a bounce."""
    raws = mixed_messages(60, run_id, to)
    return [
        *raws,
        b"Received: by mx2.test\r\n" + raws[5],
        load("bounce.eml", BOUNCED_ID=f"gone-{run_id}@y.test"),
    ]


def _snapshot(results: list[IngestResult], run_id: str) -> list[Any]:
    """Everything ingest stored for each message, with ids and the run's names left out."""

    def norm(value: object) -> str:
        return str(value).replace(run_id, "RUN")

    out: list[Any] = []
    for result in results:
        row: list[Any] = [result.outcome, norm(result.reason)]
        if result.quarantine_id:
            entry = QuarantinedEmail.objects.get(pk=result.quarantine_id)
            row += [norm(entry.reason), entry.size, norm(entry.from_address)]
        if result.ticket_id:
            ticket = Ticket.objects.select_related("customer").get(pk=result.ticket_id)
            row += [
                norm(ticket.subject),
                ticket.status,
                ticket.message_count,
                norm(ticket.customer.email),
                ticket.linked_from_id is not None,
                [
                    (event.kind, event.actor_kind, norm(event.after), norm(event.data))
                    for event in ticket.events.order_by("id")
                    if event.kind not in ("sla",)
                ],
            ]
        if result.message_pk:
            message = Message.objects.get(pk=result.message_pk)
            row += [
                message.direction,
                norm(message.body_text),
                message.body_html,
                message.automatic,
                norm(message.subject),
                norm(message.in_reply_to),
                sorted(
                    (a.filename, a.size, a.content_type, a.inline)
                    for a in Attachment.objects.filter(message=message)
                ),
            ]
        out.append(row)
    return out


def test_a_batch_stores_what_one_by_one_ingest_stores(personas: Personas) -> None:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save()
    one_by_one = [ingest_message(raw) for raw in _messages("aaaa1111", "a@tandem.test")]
    batch = ingest_many(_messages("bbbb2222", "a@tandem.test"))
    expected = _snapshot(one_by_one, "aaaa1111")
    assert _snapshot(batch, "bbbb2222") == expected
    outcomes = [row[0] for row in expected]
    # The mix really covers every path: new tickets, replies threaded inside the batch,
    # the redelivery recognized as a duplicate, quarantine.
    assert outcomes.count(Outcome.NEW_TICKET) == 51
    assert outcomes.count(Outcome.ADDED) == 6
    assert outcomes.count(Outcome.DUPLICATE) == 1
    assert outcomes.count(Outcome.QUARANTINED) == 4
    # The auto-acknowledgements of the batch are queued like the single ones.
    assert Message.objects.filter(automatic=True, direction="outbound").count() == 2 * 48


def test_one_failing_message_is_quarantined_alone(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    save = ingest.save_attachments

    def failing(message: Message, attachments: list[Any]) -> None:
        save(message, attachments)
        if message.message_id == "cid-1@customer.test":
            raise OSError("disk full")

    monkeypatch.setattr(ingest, "save_attachments", failing)
    raws = [load("plain.eml"), load("inline_cid.eml"), load("reply.eml")]
    results = ingest_many(raws)
    assert [r.outcome for r in results] == [Outcome.NEW_TICKET, Outcome.QUARANTINED, Outcome.ADDED]
    assert "OSError: disk full" in results[1].reason
    # The failed message's rows were rolled back with its savepoint; the others stayed.
    assert not Message.objects.filter(message_id="cid-1@customer.test").exists()
    assert Attachment.objects.count() == 0
    assert Ticket.objects.get(pk=results[0].ticket_id).message_count == 2


def test_the_same_message_twice_in_one_batch_is_stored_once(personas: Personas) -> None:
    again = b"Received: by another.mx; Tue, 3 Nov 2026\n" + load("plain.eml")
    results = ingest_many([load("plain.eml"), again])
    assert [r.outcome for r in results] == [Outcome.NEW_TICKET, Outcome.DUPLICATE]
    assert Message.objects.count() == 1


def test_duplicate_checks_are_one_query_per_batch(personas: Personas) -> None:
    raws = mixed_messages(40, "cccc3333", "a@tandem.test")
    ingest_many(raws)
    with CaptureQueriesContext(connection) as queries:
        results = ingest_many(raws)
    assert {r.outcome for r in results} == {Outcome.DUPLICATE}
    # Known keys and mailboxes once for the batch; the two garbage messages each look
    # up their quarantine entry by sha256.
    known = [q for q in queries.captured_queries if '"dedupe_key" IN' in q["sql"]]
    assert len(known) == 1
    selects = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 2 + 2
    assert len(queries.captured_queries) == len(selects) + 2  # the batch's savepoint


def test_hooks_run_once_per_ticket_per_batch(
    personas: Personas, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    changed: list[int] = []
    monkeypatch.setattr(services, "tickets_changed", changed.extend)
    with django_capture_on_commit_callbacks(execute=True):
        results = ingest_many([load("plain.eml"), load("reply.eml"), load("latin1_qp.eml")])
    assert results[0].ticket_id == results[1].ticket_id
    assert changed == [results[0].ticket_id, results[2].ticket_id]


def test_chunks_bound_count_and_bytes_and_keep_a_big_item_alone() -> None:
    items = [b"a" * 10, b"b" * 10, b"c" * 100, b"d" * 10, b"e" * 10, b"f" * 10]
    batches = list(chunked(items, len, count=2, size=50))
    assert batches == [[b"a" * 10, b"b" * 10], [b"c" * 100], [b"d" * 10, b"e" * 10], [b"f" * 10]]
    assert list(chunked([], len)) == []
