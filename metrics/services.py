"""Keeping per-ticket figures current: one ticket at a time, or everything from history.

Both paths read events with the same SQL (`_EVENTS_SQL`), derive with the same
function (metrics.figures.derive) and write the same columns, so a full recompute and
the incremental worker agree exactly.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from metrics import day_counts
from metrics.figures import EventRow, Figures, derive
from metrics.models import TicketFigures, TicketStateSpan
from tickets.business_hours import CompiledCalendar, compile_calendar
from tickets.models import BusinessCalendar, Team, Ticket, User

logger = logging.getLogger(__name__)

# Advisory-lock namespace for "recomputing this ticket's figures": two workers on the
# same ticket run one after the other, so the later one always reads the later history.
_LOCK_NAMESPACE = 0x7A11

# A ticket's history: its events, except that a message event counts for the ticket its
# message is on now. Events never move; a merge or a split moves messages and says so
# with an event of kind merged or split on both tickets. Those few tickets take a second
# statement (_MOVED_SQL); for every other ticket the first is all there is, as cheap to
# plan and run as before moves were recorded this way.
_MOVES = ("merged", "split")
_EVENT_VALUES = """
           CASE e.kind WHEN 'created' THEN e.after ->> 'status' ELSE e.after #>> '{}' END,
           COALESCE((e.data ->> 'automatic')::boolean, false),
           e.data ->> 'author',
           CASE e.actor_kind WHEN 'agent' THEN e.actor_id END,
           CASE e.kind WHEN 'team' THEN e.before #>> '{}' END,
           e.id
"""
_EVENTS_SQL = """
    SELECT e.ticket_id, e.at, e.kind, {values}
    FROM tickets_ticketevent e
    WHERE e.kind IN ('created', 'status', 'assignee', 'team', 'message', 'merged', 'split')
      AND {where}
    ORDER BY e.ticket_id, e.at, e.id
""".replace("{values}", _EVENT_VALUES)
# For tickets whose messages moved: the message events they hold for messages now on
# another ticket (to leave out: false), and those other tickets hold for their messages
# (to count: true).
_MOVED_SQL = """
    SELECT false, e.ticket_id, e.at, e.kind, {values}
    FROM tickets_ticketevent e JOIN tickets_message m ON m.id = e.message_id
    WHERE e.kind = 'message' AND e.ticket_id = ANY(%(tickets)s) AND m.ticket_id <> e.ticket_id
    UNION ALL
    SELECT true, m.ticket_id, e.at, e.kind, {values}
    FROM tickets_message m JOIN tickets_ticketevent e ON e.message_id = m.id
    WHERE m.ticket_id = ANY(%(tickets)s) AND e.kind = 'message' AND e.ticket_id <> m.ticket_id
""".replace("{values}", _EVENT_VALUES)


def _read_events(cursor, where: str, params: list) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The history rows of the tickets `where` selects (a condition on `ticket_id`), by
    ticket, time and id."""
    cursor.execute(_EVENTS_SQL.replace("{where}", where), params)
    rows = cursor.fetchall()
    moved = sorted({row[0] for row in rows if row[2] in _MOVES})
    rows = [row for row in rows if row[2] not in _MOVES]
    if not moved:
        return rows
    cursor.execute(_MOVED_SQL, {"tickets": moved})
    left, joined = set(), []
    for counts, *row in cursor.fetchall():
        if counts:
            joined.append(tuple(row))
        else:
            left.add(row[-1])
    rows = [row for row in rows if row[-1] not in left] + joined
    rows.sort(key=lambda row: (row[0], row[1], row[-1]))
    return rows


_TICKETS_SQL = """
    SELECT t.number, t.kind, t.mailbox_id, t.team_id, t.created_at, m.calendar_id
    FROM tickets_ticket t JOIN tickets_mailbox m ON m.id = t.mailbox_id
    WHERE {where}
    ORDER BY t.number
"""

FIGURE_COLUMNS = (
    "ticket_id",
    "kind",
    "mailbox_id",
    "team_id",
    "status",
    "assignee_id",
    "created_at",
    "customer_initiated",
    "first_reply_at",
    "first_reply_agent_id",
    "first_response_seconds",
    "first_response_business_seconds",
    "first_solve_at",
    "first_resolution_seconds",
    "first_resolution_business_seconds",
    "final_solve_at",
    "final_solve_assignee_id",
    "full_resolution_seconds",
    "full_resolution_business_seconds",
    "agent_replies",
    "reopens",
    "escalations",
    "one_touch",
    "calendar_id",
    "computed_at",
)
SPAN_COLUMNS = (
    "ticket_id",
    "during",
    "starts_at",
    "ends_at",
    "is_open",
    "assignee_id",
    "kind",
    "mailbox_id",
    "team_id",
)


@dataclass(frozen=True, slots=True)
class _TicketRow:
    number: int
    kind: str
    mailbox_id: int
    team_id: int | None
    created_at: datetime
    calendar_id: int | None


class _Context:
    """Calendars and the email -> user id map, loaded once per run and reused."""

    def __init__(self) -> None:
        calendars = list(BusinessCalendar.objects.all())
        self.calendars = {c.pk: c for c in calendars}
        self.default = next((c for c in calendars if c.is_default), None)
        self.user_ids: dict[str, int] = {}
        self.team_tiers: dict[str, int] = {}
        self._looked_up: set[str] = set()

    def calendar_for(self, row: _TicketRow) -> tuple[int | None, CompiledCalendar]:
        calendar = self.calendars.get(row.calendar_id) if row.calendar_id else None
        calendar = calendar or self.default
        return (calendar.pk if calendar else None), compile_calendar(calendar)

    def learn_emails(self, events: Iterable[EventRow]) -> None:
        """Look up the agents the events name by email, and the tiers of the teams their
        team changes name (one query each, only for names not seen before)."""
        wanted: set[str] = set()
        teams: set[str] = set()
        for event in events:
            if event.kind == "assignee" and event.value:
                wanted.add(event.value)
            elif event.kind == "message" and event.author:
                wanted.add(event.author)
            elif event.kind == "team":
                teams.update(name for name in (event.before, event.value) if name)
        teams -= self._looked_up
        if teams:
            self.team_tiers.update(Team.objects.filter(name__in=teams).values_list("name", "tier"))
            self._looked_up |= teams
        wanted -= self._looked_up
        if wanted:
            self.user_ids.update(
                (email, user.pk) for email, user in User.objects.by_email(wanted).items()
            )
            self._looked_up |= wanted


def _event_rows(rows: Iterable[tuple]) -> Iterator[tuple[int, EventRow]]:
    for ticket_id, at, kind, value, automatic, author, actor_id, before, _ in rows:
        yield ticket_id, EventRow(at, kind, value, automatic, author, actor_id, before)


def _figure_values(row: _TicketRow, figures: Figures, calendar_id: int | None, now: datetime):
    return (
        row.number,
        row.kind,
        row.mailbox_id,
        row.team_id,
        figures.status,
        figures.assignee_id,
        figures.created_at,
        figures.customer_initiated,
        figures.first_reply_at,
        figures.first_reply_agent_id,
        figures.first_response_seconds,
        figures.first_response_business_seconds,
        figures.first_solve_at,
        figures.first_resolution_seconds,
        figures.first_resolution_business_seconds,
        figures.final_solve_at,
        figures.final_solve_assignee_id,
        figures.full_resolution_seconds,
        figures.full_resolution_business_seconds,
        figures.agent_replies,
        figures.reopens,
        figures.escalations,
        figures.one_touch,
        calendar_id,
        now,
    )


def _span_values(row: _TicketRow, figures: Figures) -> Iterator[tuple]:
    for span in figures.spans:
        ends = span.ends_at.isoformat() if span.ends_at else ""
        yield (
            row.number,
            f"({span.starts_at.isoformat()},{ends}]",
            span.starts_at,
            span.ends_at,
            span.is_open,
            span.assignee_id,
            row.kind,
            row.mailbox_id,
            row.team_id,
        )


def _measure(
    tickets: list[_TicketRow], events: dict[int, list[EventRow]], context: _Context, now: datetime
) -> tuple[list[tuple], list[tuple]]:
    figure_rows: list[tuple] = []
    span_rows: list[tuple] = []
    for row in tickets:
        history = events.get(row.number, [])
        calendar_id, calendar = context.calendar_for(row)
        figures = derive(
            history,
            created_at=row.created_at,
            calendar=calendar,
            user_ids=context.user_ids,
            team_tiers=context.team_tiers,
        )
        figure_rows.append(_figure_values(row, figures, calendar_id, now))
        span_rows.extend(_span_values(row, figures))
    return figure_rows, span_rows


def _write(cursor, figure_rows: list[tuple], span_rows: list[tuple]) -> None:
    with cursor.copy(
        f"COPY metrics_ticketfigures ({', '.join(FIGURE_COLUMNS)}) FROM STDIN"
    ) as copy:
        for values in figure_rows:
            copy.write_row(values)
    with cursor.copy(
        f"COPY metrics_ticketstatespan ({', '.join(SPAN_COLUMNS)}) FROM STDIN"
    ) as copy:
        for values in span_rows:
            copy.write_row(values)


_TICKET_AND_CALENDARS_SQL = """
    SELECT t.number, t.kind, t.mailbox_id, t.team_id, t.created_at, m.calendar_id,
           c.id, c.timezone, c.hours::text, c.holidays,
           d.id, d.timezone, d.hours::text, d.holidays
    FROM tickets_ticket t JOIN tickets_mailbox m ON m.id = t.mailbox_id
    LEFT JOIN tickets_businesscalendar c ON c.id = m.calendar_id
    LEFT JOIN tickets_businesscalendar d ON d.is_default
    WHERE t.number = %s
"""


def _calendar(values: tuple) -> BusinessCalendar | None:
    pk, zone, hours, holidays = values
    if pk is None:
        return None
    return BusinessCalendar(pk=pk, timezone=zone, hours=json.loads(hours), holidays=holidays)


class _OneTicketContext(_Context):
    """The calendars of one ticket, read with the ticket itself (one query fewer)."""

    def __init__(self, own: BusinessCalendar | None, default: BusinessCalendar | None) -> None:
        self.calendars = {own.pk: own} if own else {}
        self.default = default
        self.user_ids = {}
        self.team_tiers = {}
        self._looked_up = set()


def refresh_ticket_figures(ticket_id: int) -> bool:
    """Recompute one ticket's figures and state spans; False if the ticket is gone.

    Five round trips: the per-ticket lock, the ticket with its calendars, its events, the
    users its events name, and one statement that writes the figures and spans (six for
    a ticket whose messages moved: see _MOVED_SQL).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, ticket_id & 0x7FFFFFFF]
        )
        cursor.execute(_TICKET_AND_CALENDARS_SQL, [ticket_id])
        found = cursor.fetchone()
        if found is None:
            cursor.execute(
                "WITH gone AS (DELETE FROM metrics_ticketfigures WHERE ticket_id = %s)"
                " DELETE FROM metrics_ticketstatespan WHERE ticket_id = %s",
                [ticket_id, ticket_id],
            )
            return False
        row = _TicketRow(*found[:6])
        context = _OneTicketContext(_calendar(found[6:10]), _calendar(found[10:14]))
        rows = _read_events(cursor, "ticket_id = %s", [ticket_id])
        history = [event for _, event in _event_rows(rows)]
        context.learn_emails(history)
        figure_rows, span_rows = _measure([row], {ticket_id: history}, context, timezone.now())
        _upsert_one(cursor, ticket_id, figure_rows[0], span_rows)
    return True


# Column names come from the constants above, values are parameters.
_UPSERT_FIGURES = (
    f"INSERT INTO metrics_ticketfigures ({', '.join(FIGURE_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(['%s'] * len(FIGURE_COLUMNS))})"
    " ON CONFLICT (ticket_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in FIGURE_COLUMNS if c != "ticket_id")
)


def _upsert_one(cursor, ticket_id: int, figures: tuple, spans: list[tuple]) -> None:
    span_values = ", ".join(
        "(" + ", ".join(["%s", "%s::tstzrange", *["%s"] * (len(SPAN_COLUMNS) - 2)]) + ")"
        for _ in spans
    )
    statement = (
        "WITH old AS (DELETE FROM metrics_ticketstatespan WHERE ticket_id = %s),"  # noqa: S608
        f" figures AS ({_UPSERT_FIGURES})"
        f" INSERT INTO metrics_ticketstatespan ({', '.join(SPAN_COLUMNS)}) VALUES {span_values}"
    )
    cursor.execute(statement, [ticket_id, *figures, *[v for span in spans for v in span]])


def recompute_all(
    *,
    batch_size: int = 5000,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild every ticket's figures from its history, in batches of ticket numbers.

    Each batch is one transaction that locks its tickets FOR SHARE while it reads and
    writes, so a ticket change either lands before the batch reads (and is measured) or
    waits and then enqueues its own incremental update. With `workers` > 1 the number
    range is split between that many processes, each with its own connection (the work
    is CPU-bound Python plus COPY, so it scales with cores). Returns the number of tickets.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(number), max(number), count(*) FROM tickets_ticket")
        low, high, total = cursor.fetchone()
    if total == 0:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM metrics_ticketfigures")
            cursor.execute("DELETE FROM metrics_ticketstatespan")
            day_counts.rebuild(cursor, settings.TIME_ZONE)
        return 0
    if workers > 1 and not connection.in_atomic_block:
        done = _recompute_in_processes(low, high, total, batch_size, workers, progress)
    else:
        done = _recompute_range(low, high + 1, batch_size, lambda n: _report(progress, n, total))
    # Rows of tickets outside [low, high] cannot exist (figures cascade with tickets),
    # but a table restored from elsewhere could hold some.
    TicketFigures.objects.filter(Q(ticket_id__lt=low) | Q(ticket_id__gt=high)).delete()
    TicketStateSpan.objects.filter(Q(ticket_id__lt=low) | Q(ticket_id__gt=high)).delete()
    # The triggers kept the day counts during the rewrite; counting them again folds the
    # batches' rows into one per day and key, and follows a changed TIME_ZONE.
    with transaction.atomic(), connection.cursor() as cursor:
        day_counts.rebuild(cursor, settings.TIME_ZONE)
    _refresh_statistics()
    return done


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress:
        progress(done, total)


def _recompute_range(
    start: int, end: int, batch_size: int, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute tickets with start <= number < end; returns how many there were."""
    context = _Context()
    done = 0
    while start < end:
        stop = min(start + batch_size, end)
        with transaction.atomic(), connection.cursor() as cursor:
            tickets = _recompute(
                cursor,
                "t.number >= %s AND t.number < %s",
                "ticket_id >= %s AND ticket_id < %s",
                [start, stop],
                context,
            )
        done += len(tickets)
        if progress:
            progress(done)
        start = stop
    return done


def _recompute(
    cursor, ticket_where: str, event_where: str, params: list, context: _Context
) -> list[_TicketRow]:
    """Rewrite the figures and spans of the tickets matching the two conditions (the same
    tickets, as `t.number` and as `ticket_id`), which take the same parameters."""
    cursor.execute(_TICKETS_SQL.replace("{where}", ticket_where) + " FOR SHARE OF t", params)
    tickets = [_TicketRow(*r) for r in cursor.fetchall()]
    events: dict[int, list[EventRow]] = {}
    for ticket_id, event in _event_rows(_read_events(cursor, event_where, params)):
        events.setdefault(ticket_id, []).append(event)
    # One lookup for the whole batch, not one per ticket naming someone new.
    context.learn_emails(event for history in events.values() for event in history)
    figure_rows, span_rows = _measure(tickets, events, context, timezone.now())
    cursor.execute(
        f"WITH old AS (DELETE FROM metrics_ticketfigures WHERE {event_where})"  # noqa: S608
        f" DELETE FROM metrics_ticketstatespan WHERE {event_where}",
        params * 2,
    )
    _write(cursor, figure_rows, span_rows)
    return tickets


def refresh_figures_of(ticket_ids: list[int]) -> None:
    """Recompute the figures of many tickets at once, the way `recompute_all` does a batch:
    five statements however many tickets (history import writes a batch of tickets and
    their figures in one transaction)."""
    if not ticket_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _recompute(cursor, "t.number = ANY(%s)", "ticket_id = ANY(%s)", [ticket_ids], _Context())


def refresh_figures_of_mailboxes(mailbox_ids: list[int], batch_size: int = 5000) -> int:
    """Recompute the figures of every ticket of these mailboxes (their business calendar
    changed), `refresh_figures_of` a batch of ticket numbers at a time; returns how many."""
    done, after = 0, 0
    while mailbox_ids:
        numbers = list(
            Ticket.objects.filter(mailbox_id__in=mailbox_ids, number__gt=after)
            .order_by("number")
            .values_list("number", flat=True)[:batch_size]
        )
        if not numbers:
            break
        refresh_figures_of(numbers)
        done, after = done + len(numbers), numbers[-1]
    if done >= batch_size:
        # Rewritten rows by the hundred thousand leave as many dead ones: the dashboards'
        # scans slowed 3x (summary API 100 -> 290 ms at 1M) until a vacuum.
        _refresh_statistics()
    return done


def _worker_range(start: int, end: int, batch_size: int) -> int:
    # A forked child must not share the parent's socket to PostgreSQL.
    connections.close_all()
    try:
        return _recompute_range(start, end, batch_size)
    finally:
        connections.close_all()


def _recompute_in_processes(
    low: int,
    high: int,
    total: int,
    batch_size: int,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    # Interleaved slices of batch_size, so every process gets old and new tickets alike.
    slices = [(s, min(s + batch_size, high + 1)) for s in range(low, high + 1, batch_size)]
    connections.close_all()
    done = 0
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_worker_range, s, e, batch_size) for s, e in slices]
        for future in as_completed(futures):
            done += future.result()
            _report(progress, done, total)
    return done


def _refresh_statistics() -> None:
    """After a rewrite of every row: fresh planner statistics, and a visibility map so the
    backlog's btree is read index-only. VACUUM cannot run inside a transaction (tests)."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute(
                "ANALYZE metrics_ticketfigures, metrics_ticketstatespan, metrics_daycount"
            )
        else:
            cursor.execute(
                "VACUUM (ANALYZE) metrics_ticketfigures, metrics_ticketstatespan, metrics_daycount"
            )


def compact_day_counts() -> None:
    """One row per day and key again (metrics.day_counts.compact), after the workers'
    appended changes."""
    with transaction.atomic(), connection.cursor() as cursor:
        day_counts.compact(cursor)


def stale_ticket_ids(limit: int = 1000, grace: timedelta = timedelta(minutes=2)) -> list[int]:
    """Tickets whose figures are missing or older than their last change (a lost task).

    The grace period leaves in-flight incremental updates alone.
    """
    cutoff = timezone.now() - grace
    missing = Ticket.objects.filter(figures__isnull=True, updated_at__lt=cutoff)
    behind = Ticket.objects.filter(figures__computed_at__lt=F("updated_at"), updated_at__lt=cutoff)
    return list((missing | behind).values_list("number", flat=True)[:limit])
