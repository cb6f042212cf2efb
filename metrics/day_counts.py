"""Counts per local day (metrics.models.DayCount): tickets created, open spans begun and
ended, kept by triggers on the figures and span tables.

A dashboard window is whole local days; over those, tickets created and the backlog are
sums of these rows (a few per day and filter value) instead of a count over every ticket
and span of the window: at 1M tickets the support page's backlog read ~180k span
entries and tickets created ~70k figures. metrics.aggregates reads them when the window
allows (`whole_days`), else counts the rows themselves; both give the same numbers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# One table's rows as changes to the counts: `{rows}` is the table (or a trigger's
# transition table) and `{sign}` 1 or -1. `at` is the instant whose local day counts.
_CHANGES = {
    "metrics_ticketfigures": (
        "SELECT created_at AS at, kind, team_id, mailbox_id,"
        " {sign} AS created, 0 AS opened, 0 AS closed FROM {rows}"
    ),
    "metrics_ticketstatespan": (
        "SELECT starts_at AS at, kind, team_id, mailbox_id,"
        " 0 AS created, {sign} AS opened, 0 AS closed FROM {rows} WHERE is_open"
        " UNION ALL SELECT ends_at, kind, team_id, mailbox_id, 0, 0, {sign}"
        " FROM {rows} WHERE is_open AND ends_at IS NOT NULL"
    ),
}


def _append(changes: str) -> str:
    """INSERT the changes summed per day and key, in the zone of metrics_daycountzone: read
    by this statement, after it waited for any rebuild (EXCLUSIVE lock on the counts), so
    a change never lands in the zone a rebuild has just replaced. No zone, no rows."""
    return (
        "INSERT INTO metrics_daycount (day, kind, team_id, mailbox_id, created, opened, closed)"  # noqa: S608 (fixed fragments)
        " SELECT (c.at AT TIME ZONE z.name)::date, c.kind, c.team_id, c.mailbox_id,"
        " sum(c.created), sum(c.opened), sum(c.closed)"
        f" FROM ({changes}) c, metrics_daycountzone z GROUP BY 1, 2, 3, 4"
        " HAVING sum(c.created) <> 0 OR sum(c.opened) <> 0 OR sum(c.closed) <> 0"
    )


def _trigger_changes(table: str) -> str:
    """The plpgsql expression of the trigger's changes: new rows count up, old rows down,
    and an UPDATE nets both in one INSERT (an unchanged row appends nothing)."""
    template = _CHANGES[table]

    def literal(rows: str, sign: str) -> str:
        return "'" + template.format(rows=rows, sign=sign).replace("'", "''") + "'"

    new, old = literal("new_rows", "1"), literal("old_rows", "-1")
    return (
        f"CASE TG_OP WHEN 'INSERT' THEN {new} WHEN 'DELETE' THEN {old}"
        f" ELSE {new} || ' UNION ALL ' || {old} END"
    )


def functions_sql() -> list[str]:
    """The trigger functions (migrations 0006, and 0007 which replaced the first ones)."""
    parts = []
    for table in _CHANGES:
        append = _append("%s").replace("'", "''")
        parts.append(
            f"CREATE OR REPLACE FUNCTION {table}_day_counts() RETURNS trigger"
            " LANGUAGE plpgsql AS $$"
            f" BEGIN EXECUTE format('{append}', {_trigger_changes(table)}); RETURN NULL; END $$"
        )
    return parts


def install_sql() -> list[str]:
    """The trigger functions and statement triggers (migration 0006). Transition tables
    give each statement's rows at once, so a COPY of thousands of spans appends one
    summed row per day and key, not one per span."""
    parts = functions_sql()
    for table in _CHANGES:
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            parts.append(
                f"CREATE TRIGGER {table}_day_counts_{event.lower()} AFTER {event} ON {table}"
                f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {table}_day_counts()"
            )
    return parts


def uninstall_sql() -> list[str]:
    return [f"DROP FUNCTION {table}_day_counts() CASCADE" for table in _CHANGES]


def rebuild(cursor, zone: str) -> None:
    """Count every day again from the figures and spans, in `zone`.

    The EXCLUSIVE lock on the counts (readers go on) makes writers' triggers and the
    sweeper's compaction wait until this commits: a writer that appended before it is
    waited for and counted here, one that appends after it is not counted here and keeps
    its own row. Figures and spans are not locked: a writer locks those before the counts,
    this the other way round, and would deadlock with it."""
    cursor.execute("LOCK TABLE metrics_daycount IN EXCLUSIVE MODE")
    cursor.execute("DELETE FROM metrics_daycountzone")
    cursor.execute("INSERT INTO metrics_daycountzone (name) VALUES (%s)", [zone])
    cursor.execute("DELETE FROM metrics_daycount")
    changes = " UNION ALL ".join(
        template.format(rows=table, sign="1") for table, template in _CHANGES.items()
    )
    cursor.execute(_append(changes))


def compact(cursor) -> None:
    """Fold the appended rows into one per day and key (the sweeper, every 10 minutes).

    One statement: rows appended after its snapshot are neither deleted nor summed, and
    a concurrent compaction re-sums only the rows it deleted itself."""
    cursor.execute(
        "WITH gone AS (DELETE FROM metrics_daycount"
        " RETURNING day, kind, team_id, mailbox_id, created, opened, closed)"
        " INSERT INTO metrics_daycount (day, kind, team_id, mailbox_id, created, opened, closed)"
        " SELECT day, kind, team_id, mailbox_id, sum(created), sum(opened), sum(closed)"
        " FROM gone GROUP BY 1, 2, 3, 4"
        " HAVING sum(created) <> 0 OR sum(opened) <> 0 OR sum(closed) <> 0"
    )


# A bound of a window is a day boundary the counts can use if its zone's clock runs
# steadily around it: a UTC offset change (DST) within this margin could put instants
# after the bound on the local day before it.
_STEADY = timedelta(hours=6)


def whole_days(start: datetime, end: datetime, time_zone: str) -> tuple[date, date] | None:
    """The local dates of [start, end) when both are local midnights away from offset
    changes, else None (count the rows themselves)."""
    zone = ZoneInfo(time_zone)
    days = []
    for at in (start, end):
        local = at.astimezone(zone)
        offsets = {(at + step).astimezone(zone).utcoffset() for step in (-_STEADY, _STEADY)}
        if local.time() != time(0) or offsets != {local.utcoffset()}:
            return None
        days.append(local.date())
    return days[0], days[1]
