"""The benchmark's bulk seed and report: consistent data, and a table people can read."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.db.models import Count, F, Q

from bench import seed as bench_seed
from bench.core import Bench
from tickets.access import get_ticket_for
from tickets.models import Direction, EventKind, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)",
            [list(bench_seed.BULK_TABLES)],
        )
        return {row[0] for row in cursor.fetchall()}


def test_seed_writes_consistent_tickets_messages_and_events() -> None:
    indexes = _index_names()
    assert bench_seed.seed(300) == 300
    assert bench_seed.seeded_count() == 300
    # Every secondary index is back after the bulk load.
    assert _index_names() == indexes

    tickets = Ticket.objects.annotate(real=Count("messages")).filter(~Q(real=F("message_count")))
    assert not tickets.exists(), "message_count matches the stored messages"
    assert Message.objects.count() >= 300
    first = Message.objects.filter(ticket=Ticket.objects.order_by("number").first()).first()
    assert first.direction == Direction.INBOUND
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == 300
    assert TicketEvent.objects.filter(kind=EventKind.MESSAGE).count() == Message.objects.count()
    # Generated columns filled themselves: full-text search finds seeded words.
    assert Ticket.objects.matching("invoice").exists()
    # Sequences continue after the copied ids.
    assert bench_seed.seed(310) == 10
    assert bench_seed.seed(310) == 0

    bench = Bench(out=io.StringIO(), tickets=310)
    numbers = bench.sample_tickets(bench.agent, 5)
    assert len(numbers) == 5
    for number in numbers:
        assert get_ticket_for(bench.agent, number)


def test_bench_report_table() -> None:
    out = io.StringIO()
    bench = Bench(out=out, tickets=10)
    bench.section = "demo"
    bench.measure("fast", lambda i: None, samples=5, warmup=1, target_ms=1000, note="a note")
    bench.rate("import", 1000, 2.0, unit="tickets/s", target=400)
    table = bench.table()
    assert "demo    | fast" in table
    assert "500 tickets/s" in table and ">= 400 tickets/s" in table
    assert table.count("yes") == 2
    assert "- demo/fast: a note" in table


def test_bench_table_with_wall_clock_samples_only() -> None:
    """Sections that time a whole run (e.g. the SLA beat) have no per-sample CPU figures."""
    from bench.core import Result

    bench = Bench(out=io.StringIO(), tickets=10)
    bench.results.append(Result("tickets", "SLA beat", samples_ms=[900.0], target_ms=10_000))
    assert "SLA beat | 1 | 900.0  | 900.0  |         |" in bench.table()


@pytest.mark.django_db(transaction=True)
def test_seed_outside_a_transaction_copies_on_a_second_session(monkeypatch) -> None:
    """Committed seeding copies chunk N while generating chunk N+1, then rebuilds the
    indexes two at a time: the same rows and the same indexes as the one-session path."""
    monkeypatch.setattr(bench_seed, "CHUNK", 70)
    indexes = _index_names()
    assert bench_seed.seed(250) == 250
    assert _index_names() == indexes
    assert Ticket.objects.count() == 250
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == 250
    assert TicketEvent.objects.filter(kind=EventKind.MESSAGE).count() == Message.objects.count()
    tickets = Ticket.objects.annotate(real=Count("messages")).filter(~Q(real=F("message_count")))
    assert not tickets.exists()
    assert Ticket.objects.matching("invoice").exists()


def test_prewarm_reads_the_tables_and_their_indexes_or_says_why_not() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'")
        available = cursor.fetchone() is not None
    out = io.StringIO()
    Bench(out=out, tickets=0).prewarm("tickets_ticket", "tickets_message")
    note = out.getvalue()
    if available:
        # Both tables, their indexes (about twenty) and their TOAST tables.
        relations = int(note.split("prewarmed ")[1].split(" ")[0])
        assert relations > 10, note
    else:
        # The embedded server has no pg_prewarm: the pages are timed as they are cached.
        assert "not prewarmed (pg_prewarm" in note, note
    assert not Ticket.objects.exists()  # the test's transaction is still usable
