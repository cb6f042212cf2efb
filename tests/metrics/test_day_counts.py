"""Per-day counts (metrics.day_counts): the triggers keep them exact on every write of
figures and spans, and tickets created and the backlog over whole local days read them
with the same numbers as counting the rows themselves."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from metrics import aggregates, day_counts
from metrics.aggregates import Sets, Window
from metrics.day_counts import whole_days
from metrics.models import DayCount, DayCountZone
from metrics.services import compact_day_counts, recompute_all, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import (
    T0,
    assign,
    customer_writes,
    hours,
    make_customer,
    open_ticket,
    reply,
    set_status,
)
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
GROUPS = [None, "day", "week", Sets("day", people=False), Sets("week", people=False)]


def _rows(statement: tuple[str, list[Any]]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        columns = [c.name for c in cursor.description]
        return sorted((tuple(zip(columns, row, strict=True)) for row in cursor), key=repr)


def _days(first: date, last: date, zone: ZoneInfo = UTC, **filters: Any) -> Window:
    """The window of whole local days first..last, as the dashboard's form makes it."""
    return Window(
        start=datetime.combine(first, time(0), tzinfo=zone),
        end=datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone),
        time_zone=str(zone),
        **filters,
    )


def _counted_and_counting(w: Window) -> list[tuple[list, list]]:
    pairs = []
    for group in GROUPS:
        assert aggregates._counted_days(w, group) is not None
        pairs.append(
            (
                _rows(aggregates.tickets_created_sql(w, group)),
                _rows(aggregates._tickets_created_rows(w, group)),
            )
        )
        bucket = group.bucket if isinstance(group, Sets) else group
        pairs.append(
            (
                _rows(aggregates.backlog_sql(w, bucket)),
                _rows(aggregates._backlog_rows(w, bucket)),
            )
        )
    return pairs


def _sums() -> dict[tuple, tuple[int, int, int]]:
    """The counts per day and key, however many rows hold them."""
    sums: dict[tuple, list[int]] = {}
    for row in DayCount.objects.all():
        key = (row.day, row.kind, row.team_id, row.mailbox_id)
        total = sums.setdefault(key, [0, 0, 0])
        for i, value in enumerate((row.created, row.opened, row.closed)):
            total[i] += value
    return {key: tuple(total) for key, total in sums.items() if any(total)}  # type: ignore[misc]


def _recounted(zone: str = "UTC") -> dict[tuple, tuple[int, int, int]]:
    with connection.cursor() as cursor:
        day_counts.rebuild(cursor, zone)
    return _sums()


@pytest.fixture
def history(personas: Personas) -> list[Ticket]:
    """Two weeks of tickets on both teams, some solved, reopened or handed over, measured
    one by one as the workers do (the incremental path), counted in UTC days."""
    with connection.cursor() as cursor:
        day_counts.rebuild(cursor, "UTC")  # what migrate and recompute_metrics do
    p = personas
    tickets = []
    for n in range(14):
        at = hours(-7 * 24 + n * 13)
        agent, team, mailbox = (
            (p.agent_a, p.team_a, p.mailbox_a) if n % 3 else (p.agent_b, p.team_b, p.mailbox_b)
        )
        ticket = open_ticket(
            mailbox, make_customer(), at=at, team=team, kind="service" if n % 4 == 3 else "support"
        )
        assign(ticket, agent, at + timedelta(minutes=10))
        reply(ticket, agent, at + timedelta(hours=2))
        if n % 3 != 2:
            set_status(ticket, agent, "solved", at + timedelta(hours=20 + n))
        if n % 5 == 1:
            customer_writes(ticket, at + timedelta(hours=50))
            assign(ticket, p.agent_b, at + timedelta(hours=51))
        tickets.append(ticket)
        refresh_ticket_figures(ticket.pk)
    return tickets


def test_counts_equal_counting_the_rows(personas: Personas, history: list[Ticket]) -> None:
    week = _days(T0.date() - timedelta(days=6), T0.date())
    windows = [
        week,
        replace(week, kind="support"),
        replace(week, kind="service"),
        replace(week, kind="all", team_id=personas.team_a.pk),
        replace(week, kind="support", mailbox_id=personas.mailbox_b.pk),
        _days(T0.date() - timedelta(days=2), T0.date() + timedelta(days=9)),
        _days(date(2025, 1, 1), date(2025, 1, 31)),  # before any ticket
    ]
    assert DayCountZone.objects.get().name == "UTC" and DayCount.objects.exists()
    nonzero = 0
    for w in windows:
        for counted, counting in _counted_and_counting(w):
            assert counted == counting, w
            nonzero += any(value for row in counted for name, value in row if name == "count")
    assert nonzero > 30


def test_another_zone_counts_the_rows(personas: Personas, history: list[Ticket]) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    week = _days(T0.date() - timedelta(days=6), T0.date())
    in_berlin = _days(T0.date() - timedelta(days=6), T0.date(), berlin)
    # Counts that are off by 100 on every day show which path a statement took.
    with connection.cursor() as cursor:
        day_counts.rebuild(cursor, "Europe/Berlin")
    DayCount.objects.update(created=100)
    utc = _rows(aggregates.tickets_created_sql(week))
    assert utc == _rows(aggregates._tickets_created_rows(week, None))
    assert _rows(aggregates.tickets_created_sql(in_berlin))[0][0][1] >= 100
    # The counts rebuilt in UTC are read again, and right.
    assert _recounted()
    for counted, counting in _counted_and_counting(week):
        assert counted == counting


def test_every_write_keeps_the_counts(personas: Personas, history: list[Ticket]) -> None:
    p = personas
    first, second, third = history[0], history[1], history[2]
    assert _sums() == _recounted()
    # A change measured by the worker: new spans, a new final solve.
    set_status(third, p.agent_a, "solved", hours(40))
    refresh_ticket_figures(third.pk)
    assert _sums() == _recounted()
    # The ticket moves to another team and kind: its figures and spans change keys.
    services.update_ticket(first, at=hours(41), team=p.team_b, kind="service")
    refresh_ticket_figures(first.pk)
    before = _sums()
    assert before == _recounted()
    # A deleted ticket's figures and spans go with it (cascade).
    Ticket.objects.filter(pk=second.pk).delete()
    assert _sums() == _recounted() != before
    # Everything rewritten from history; the counts match the rows again.
    recompute_all()
    assert _sums() == _recounted()


def test_writes_count_in_the_zone_of_the_last_rebuild(
    personas: Personas, history: list[Ticket]
) -> None:
    _recounted("Pacific/Auckland")  # UTC+13 in March: other days than UTC
    set_status(history[2], personas.agent_a, "solved", hours(40))
    refresh_ticket_figures(history[2].pk)
    assert _sums() == _recounted("Pacific/Auckland") != _recounted("UTC")
    # Without a zone (a flushed table) the triggers append nothing and fail nothing.
    DayCountZone.objects.all().delete()
    before = _sums()
    refresh_ticket_figures(history[3].pk)
    Ticket.objects.filter(pk=history[4].pk).delete()
    assert _sums() == before


def test_compacting_keeps_the_sums(personas: Personas, history: list[Ticket]) -> None:
    for ticket in history:
        refresh_ticket_figures(ticket.pk)
    services.update_ticket(history[0], at=hours(1), team=personas.team_b)
    refresh_ticket_figures(history[0].pk)
    sums = _sums()
    compact_day_counts()
    assert _sums() == sums
    assert DayCount.objects.count() == len(sums)


def test_whole_days() -> None:
    berlin = "Europe/Berlin"
    utc_midnight = datetime(2026, 3, 2, tzinfo=UTC)
    assert whole_days(utc_midnight, utc_midnight + timedelta(days=7), "UTC") == (
        date(2026, 3, 2),
        date(2026, 3, 9),
    )
    assert (
        whole_days(utc_midnight + timedelta(hours=1), utc_midnight + timedelta(days=7), "UTC")
        is None
    )
    # Midnight in UTC is 01:00 in Berlin.
    assert whole_days(utc_midnight, utc_midnight + timedelta(days=7), berlin) is None
    zone = ZoneInfo(berlin)
    local = datetime(2026, 3, 2, tzinfo=zone)
    assert whole_days(local, local + timedelta(days=7), berlin) == (
        date(2026, 3, 2),
        date(2026, 3, 9),
    )
    # Clocks go forward at 02:00 on 29 March and back at 03:00 on 25 October: a bound on
    # those days is counted from the rows.
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        bound = datetime.combine(day, time(0), tzinfo=zone)
        assert whole_days(local, bound, berlin) is None
        assert whole_days(bound, bound + timedelta(days=3), berlin) is None
    assert whole_days(local, datetime(2026, 3, 30, tzinfo=zone), berlin) == (
        date(2026, 3, 2),
        date(2026, 3, 30),
    )
