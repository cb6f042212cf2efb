"""ingest_many: a batch in one transaction gives each message the outcome it gets alone."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.mail import mixed_messages
from tests.conftest import Personas
from tests.mail.conftest import load
from tickets import services
from tickets.mail import bulk
from tickets.mail.ingest import IngestResult, Outcome
from tickets.mail.intake import chunked, ingest_many, ingest_message
from tickets.mail.models import QuarantinedEmail
from tickets.models import Attachment, Customer, EventKind, Message, Ticket
from tickets.workflow import after_change, automation, setup
from tickets.workflow.models import AutomationRule, SlaPolicy

pytestmark = pytest.mark.django_db


def _messages(run_id: str, to: str, *, bounce: bool = True) -> list[bytes]:
    """The bench mix (replies threading onto earlier messages of the same batch,
    auto-replies, HTML, Latin-1, attachments, garbage) plus a redelivery and a bounce
    (a bounce makes the batch go message by message; without it, it goes in bulk)."""
    raws = mixed_messages(60, run_id, to)
    return [
        *raws,
        b"Received: by mx2.test\r\n" + raws[5],
        *([load("bounce.eml", BOUNCED_ID=f"gone-{run_id}@y.test")] if bounce else []),
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


@pytest.mark.parametrize("bounce", [True, False], ids=["message by message", "in bulk"])
def test_a_batch_stores_what_one_by_one_ingest_stores(
    personas: Personas, monkeypatch: pytest.MonkeyPatch, bounce: bool
) -> None:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save()
    one_by_one = [
        ingest_message(raw) for raw in _messages("aaaa1111", "a@tandem.test", bounce=bounce)
    ]
    stored_in_bulk: list[int] = []
    store_batch = bulk.store_batch

    def spy(items: Any, **kwargs: Any) -> Any:
        stored, refused = store_batch(items, **kwargs)
        stored_in_bulk.extend(done.index for done in stored)
        return stored, refused

    monkeypatch.setattr(bulk, "store_batch", spy)
    batch = ingest_many(_messages("bbbb2222", "a@tandem.test", bounce=bounce))
    expected = _snapshot(one_by_one, "aaaa1111")
    assert _snapshot(batch, "bbbb2222") == expected
    outcomes = [row[0] for row in expected]
    # The mix really covers every path: new tickets, replies threaded inside the batch,
    # the redelivery recognized as a duplicate, quarantine.
    assert outcomes.count(Outcome.NEW_TICKET) == 51
    assert outcomes.count(Outcome.ADDED) == 6
    assert outcomes.count(Outcome.DUPLICATE) == 1
    assert outcomes.count(Outcome.QUARANTINED) == 3 + bounce
    # The auto-acknowledgements of the batch are queued like the single ones.
    assert Message.objects.filter(automatic=True, direction="outbound").count() == 2 * 48
    # Which path the batch took: a bounce sends it message by message.
    assert len(stored_in_bulk) == (0 if bounce else 51 + 6)


def test_one_failing_message_is_quarantined_alone(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = services.attachments.attachment_rows

    def failing(message: Message, attachments: list[Any]) -> list[Attachment]:
        if message.message_id == "cid-1@customer.test":
            raise OSError("disk full")
        return rows(message, attachments)

    # Fails the batch path and then, message by message, this message alone.
    monkeypatch.setattr(services.attachments, "attachment_rows", failing)
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
    assert len(queries.captured_queries) == len(selects) + 4  # the batch and bulk savepoints


def test_hooks_run_once_per_ticket_per_batch(
    personas: Personas, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    changed: list[int] = []
    # The after-commit hook of changes_in_bulk calls the events module's function.
    monkeypatch.setattr(services.events, "tickets_changed", changed.extend)
    with django_capture_on_commit_callbacks(execute=True):
        results = ingest_many([load("plain.eml"), load("reply.eml"), load("latin1_qp.eml")])
    assert results[0].ticket_id == results[1].ticket_id
    assert changed == [results[0].ticket_id, results[2].ticket_id]


def test_chunks_bound_count_and_bytes_and_keep_a_big_item_alone() -> None:
    items = [b"a" * 10, b"b" * 10, b"c" * 100, b"d" * 10, b"e" * 10, b"f" * 10]
    batches = list(chunked(items, len, count=2, size=50))
    assert batches == [[b"a" * 10, b"b" * 10], [b"c" * 100], [b"d" * 10, b"e" * 10], [b"f" * 10]]
    assert list(chunked([], len)) == []


def _workflow_messages(run_id: str) -> list[bytes]:
    """Mail that the built-in rules act on, with an SLA policy in force: a customer's
    third support ticket in 30 days (a follow-up is opened), a furious customer (tagged,
    priority raised), and a furious reply to an earlier ticket of the same batch."""
    customer = f"Dana <dana.{run_id}@customers.test>"

    def mail(n: int, body: str, reply_to: int | None = None) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"] = customer, "a@tandem.test"
        msg["Message-ID"] = f"<w{n}.{run_id}@customers.test>"
        msg["Subject"] = f"Question {n}"
        if reply_to is not None:
            msg["In-Reply-To"] = f"<w{reply_to}.{run_id}@customers.test>"
        msg.set_content(body)
        return msg.as_bytes()

    furious = "This is terrible, awful and useless. I hate it, the worst service ever!!!"
    return [
        mail(1, "Where is my parcel?"),
        mail(2, "And the invoice?"),
        mail(3, furious),
        mail(4, "Also my password."),
        mail(5, furious, reply_to=1),
    ]


def _workflow_snapshot(results: list[IngestResult], run_id: str) -> list[Any]:
    customer = Customer.objects.get(email=f"dana.{run_id}@customers.test")
    tickets = list(Ticket.objects.filter(customer=customer).order_by("number"))
    names = {str(ticket.pk): f"T{n}" for n, ticket in enumerate(tickets)}

    def norm(value: object) -> str:
        text = str(value).replace(run_id, "RUN")
        return re.sub(r"\d+", lambda m: names.get(m.group(), m.group()), text)

    return [
        [
            ticket.kind,
            ticket.status,
            ticket.priority,
            sorted(ticket.tags),
            ticket.sla_policy_id,
            ticket.first_response_due_at - ticket.created_at
            if ticket.first_response_due_at
            else None,
            # A batch's rules open their follow-ups together when their pass ends
            # (tickets/workflow/follow_ups.py), so a ticket's link to its follow-up comes after
            # the other changes of that pass, where alone it comes in the rules' order.
            sorted(
                [
                    (e.kind, e.actor_kind, norm(e.after), norm(e.data))
                    for e in ticket.events.order_by("id")
                ],
                key=lambda event: event[0] == EventKind.LINKED,
            ),
        ]
        for ticket in tickets
    ] + [[r.outcome for r in results]]


def test_the_workflow_of_a_batch_is_that_of_each_ticket_alone(
    personas: Personas,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """After a batch commits, its tickets' rules, snoozes, assignment and due times run
    with a statement per step for all of them (after_change.workflow_after_changes); the
    result is the one of running the workflow of each ticket alone, in order."""
    setup.save_policy(
        SlaPolicy(name="Normal", priority="normal", first_response_hours=4, resolution_hours=16)
    )
    AutomationRule.objects.update(is_active=False)
    AutomationRule.objects.bulk_create(
        [
            AutomationRule(
                name="Three support tickets in 30 days",
                trigger="created",
                conditions=[
                    {"field": "kind", "op": "is", "value": "support"},
                    {"field": "recent_support_tickets", "op": "at_least", "value": 3, "days": 30},
                ],
                actions=[{"type": "open_follow_up", "days": 30}],
            ),
            AutomationRule(
                name="Frustrated customer",
                trigger="changed",
                conditions=[{"field": "sentiment", "op": "below", "value": -0.8}],
                actions=[
                    {"type": "add_tags", "value": ["frustrated"]},
                    {"type": "raise_priority", "value": "high"},
                ],
            ),
        ]
    )
    automation.rules_changed()
    with monkeypatch.context() as patch:
        patch.setattr(
            after_change,
            "workflow_after_changes",
            lambda ids: [*map(after_change.workflow_after_change, ids)],
        )
        with django_capture_on_commit_callbacks(execute=True):
            alone = ingest_many(_workflow_messages("aaaa1111"))
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        together = ingest_many(_workflow_messages("bbbb2222"))
    expected = _workflow_snapshot(alone, "aaaa1111")
    assert _workflow_snapshot(together, "bbbb2222") == expected
    tickets = expected[:-1]
    # The rules really acted: the furious ticket and reply, and a follow-up.
    assert sum("frustrated" in row[3] for row in tickets) == 2
    assert [row[0] for row in tickets].count("service") == 1
    assert sum(row[5] is not None for row in tickets) >= 2
    # Claims go a pass at a time, one statement for all the tickets of the pass: the
    # batch's tickets, again those its rules acted on, and after commit what the rules
    # changed (the follow-up, the tickets they tagged). None is claimed alone.
    claims = [q["sql"] for q in queries.captured_queries if "tickets_rulecursor" in q["sql"]]
    assert len(claims) == 3
    assert all("unnest(" in sql for sql in claims)
