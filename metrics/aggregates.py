"""Aggregates over a window [start, end), in SQL over the per-ticket rows.

Each figure of specs/metrics.md is one SELECT over indexed rows (metrics_ticketfigures,
metrics_ticketstatespan, metrics_surveyresponse), optionally grouped by agent, team or
time bucket for the dashboards; nothing loads tickets into Python. The summary endpoint
runs them all as one statement.

The dashboards read each figure once per page with `breakdown()`: one scan over the
previous window and this one, grouped by GROUPING SETS into both windows' totals, this
window's series and its per-agent and per-team rows, the same numbers the separate
queries give.

Filters, where the spec leaves a choice: team, mailbox and kind are the ticket's current
values. The agent filter follows the spec: FRT by the agent of the first reply;
resolution, FCR and reopen by the assignee at the final solve; CSAT and CES by the
assignee when the survey was answered; tickets created and backlog by the assignee at
`end` (the state after every event before `end`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, cast

from django.db import connection

from metrics.day_counts import whole_days

Kind = Literal["support", "service", "all"]
Hours = Literal["calendar", "business"]
Bucket = Literal["day", "week"]


@dataclass(frozen=True)
class Sets:
    """A dashboard's grouping of one figure over one window: the total, by bucket, and by
    agent and by team when `people`, as GROUPING SETS of one statement."""

    bucket: Bucket
    people: bool = True


# "rows" is not a grouping: it lists the tickets behind a figure (dashboard drill-down).
OneGroup = Literal["agent", "team", "day", "week", "rows"] | str | None
Group = OneGroup | Sets

# The default kind of each figure when the caller gives none (specs/metrics.md).
DEFAULT_KIND: dict[str, Kind] = {
    "tickets_created": "all",
    "first_response": "support",
    "resolution": "support",
    "backlog": "support",
    "csat": "all",
    "ces": "support",
}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    kind: Kind | None = None  # None: each figure uses its default
    hours: Hours = "calendar"
    team_id: int | None = None
    agent_id: int | None = None
    mailbox_id: int | None = None
    # The channel the tickets came through (Ticket.channel); the day counts know none.
    channel: str | None = None
    time_zone: str = "UTC"  # for day and week buckets

    def kind_for(self, figure: str) -> Kind:
        return self.kind or DEFAULT_KIND[figure]

    def previous(self) -> Window:
        """The window of the same length just before this one (dashboard comparisons)."""
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)


class _Query:
    """A SELECT assembled from conditions; parameters stay separate from the SQL text."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.where: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.where.append(condition)
        self.params.extend(params)

    def ticket_filters(self, w: Window, kind: Kind, alias: str, ticket: str = "ticket_id") -> None:
        """The dashboard's ticket filters on `alias`, whose `ticket` column is the ticket's."""
        if kind != "all":
            self.add(f"{alias}.kind = %s", kind)
        if w.team_id is not None:
            self.add(f"{alias}.team_id = %s", w.team_id)
        if w.mailbox_id is not None:
            self.add(f"{alias}.mailbox_id = %s", w.mailbox_id)
        if w.channel is not None:
            tickets = "SELECT number FROM tickets_ticket WHERE channel = %s"
            self.add(f"{alias}.{ticket} IN ({tickets})", w.channel)

    def sql(self, select: str, group: str | None) -> tuple[str, list[Any]]:
        key = f"{group} AS key, " if group else ""
        text = f"SELECT {key}{select} FROM {self.table} WHERE {' AND '.join(self.where)}"  # noqa: S608 (fixed fragments; values are parameters)
        if group:
            text += " GROUP BY 1"
        return text, self.params

    def grouping_sets(
        self, select: str, sets: Sets, column: str, agent: str | None, time_zone: str
    ) -> tuple[str, list[Any]]:
        """One row per grouping of `sets`. The series' rows are those with a bucket: every
        row of the window has one (its column is range-filtered, never NULL). `part` is
        GROUPING(agent, team) (a 1 bit: not grouped by that key), since an agent or team
        may be NULL in its own grouping too; it names no parameter, so the statement's
        text does not depend on how parameters are bound. GROUP BY names keys by position.
        """
        keys = [f"{_bucket_start(sets.bucket, column)} AS bucket"]
        part, groups = "0", ["()", "(1)"]
        if sets.people:
            agent = agent or "NULL::bigint"
            keys += [f"{agent} AS agent", "f.team_id AS team"]
            part, groups = f"GROUPING({agent}, f.team_id)", [*groups, "(2)", "(3)"]
        text = (
            f"SELECT {', '.join(keys)}, {part} AS part, {select}"  # noqa: S608 (fixed fragments)
            f" FROM {self.table} WHERE {' AND '.join(self.where)}"
            f" GROUP BY GROUPING SETS ({', '.join(groups)})"
        )
        return text, [time_zone, *self.params]


def _bucket_start(bucket: Bucket, column: str) -> str:
    """The first day of the bucket holding `column`, in the time zone given as parameter.
    A day is the local date itself: a cast, cheaper per row than date_trunc."""
    if bucket == "day":
        return f"({column} AT TIME ZONE %s)::date"
    return f"date_trunc('{bucket}', {column} AT TIME ZONE %s)::date"


# A group "field:<key>": by the value of a ticket's custom field (metrics/field_breakdown.py).
FIELD_GROUP = "field:"
_FIELD_KEY = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


def field_group_key(group: object) -> str | None:
    """The custom field key a group names, or None (a key is a slug: it is put in the SQL
    text as a literal only after this check)."""
    if isinstance(group, str) and group.startswith(FIELD_GROUP):
        key = group.removeprefix(FIELD_GROUP)
        if _FIELD_KEY.match(key):
            return key
    return None


def _bucket(column: str, group: Group, w: Window, agent_column: str | None) -> str | None:
    key = field_group_key(group)
    if key is not None:
        # A slug checked by field_group_key: letters, digits, - and _ only.
        return f"(SELECT t.fields ->> '{key}' FROM tickets_ticket t WHERE t.number = f.ticket_id)"  # noqa: S608
    if group == "agent":
        return agent_column
    if group == "team":
        return "f.team_id"
    if group in ("day", "week"):
        return _bucket_start(cast(Bucket, group), column)
    return None


def _grouped(query: _Query, select: str, group: Group, column: str, w: Window, agent: str | None):
    if isinstance(group, Sets):
        return query.grouping_sets(select, group, column, agent, w.time_zone)
    if group == "rows":
        ticket_id = column.split(".")[0] + ".ticket_id"
        return query.sql(f"{ticket_id} AS ticket_id, {column} AS at", None)
    bucket = _bucket(column, group, w, agent)
    text, params = query.sql(select, bucket)
    if group in ("day", "week"):
        params = [w.time_zone, *params]
    return text, params


def _stats(column: str) -> str:
    return (
        f"count(*) AS count, avg({column}) AS mean, "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) AS median, "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {column}) AS p90"
    )


def tickets_created_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    days = _counted_days(w, group)
    if days is None:
        return _tickets_created_rows(w, group)
    q = _Query("metrics_daycount f")
    q.add("f.day >= %s AND f.day < %s", *days)
    q.ticket_filters(w, w.kind_for("tickets_created"), "f")
    select = "COALESCE(sum(f.created), 0)::bigint AS count"
    counted = _days_grouped(q, select, "sum(f.created) <> 0", group)
    return _gated(counted, _tickets_created_rows(w, group), w.time_zone)


def _tickets_created_rows(w: Window, group: Group) -> tuple[str, list[Any]]:
    q = _Query("metrics_ticketfigures f")
    q.add("f.created_at >= %s AND f.created_at < %s", w.start, w.end)
    q.ticket_filters(w, w.kind_for("tickets_created"), "f")
    agent_column = None
    if w.agent_id is not None:
        # The assignee at `end` is the agent: start from that agent's spans (assignee
        # index), far fewer than the tickets of the window.
        q.table += (
            " JOIN metrics_ticketstatespan sp ON sp.ticket_id = f.ticket_id"
            " AND sp.assignee_id = %s AND sp.during @> %s::timestamptz"
        )
        q.params[:0] = [w.agent_id, w.end]
        agent_column = "sp.assignee_id"
    elif group == "agent":
        # Per agent: one index lookup per ticket (LATERAL ... LIMIT 1) for its span at `end`.
        q.table += (
            " JOIN LATERAL (SELECT s.assignee_id FROM metrics_ticketstatespan s"
            " WHERE s.ticket_id = f.ticket_id AND s.during @> %s::timestamptz LIMIT 1) sp ON true"
        )
        q.params.insert(0, w.end)
        agent_column = "sp.assignee_id"
    return _grouped(q, "count(*) AS count", group, "f.created_at", w, agent_column)


def first_response_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    column = (
        "f.first_response_business_seconds" if w.hours == "business" else "f.first_response_seconds"
    )
    q = _Query("metrics_ticketfigures f")
    q.add("f.first_response_seconds IS NOT NULL")
    q.add("f.first_reply_at >= %s AND f.first_reply_at < %s", w.start, w.end)
    q.ticket_filters(w, w.kind_for("first_response"), "f")
    if w.agent_id is not None:
        q.add("f.first_reply_agent_id = %s", w.agent_id)
    return _grouped(q, _stats(column), group, "f.first_reply_at", w, "f.first_reply_agent_id")


def resolution_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    """Resolution time, FCR and reopens: all over tickets whose final solve is in the window."""
    column = (
        "f.full_resolution_business_seconds"
        if w.hours == "business"
        else "f.full_resolution_seconds"
    )
    q = _Query("metrics_ticketfigures f")
    q.add("f.final_solve_at >= %s AND f.final_solve_at < %s", w.start, w.end)
    q.ticket_filters(w, w.kind_for("resolution"), "f")
    if w.agent_id is not None:
        q.add("f.final_solve_assignee_id = %s", w.agent_id)
    select = (
        _stats(column) + ", count(*) FILTER (WHERE f.customer_initiated) AS fcr_count"
        ", count(*) FILTER (WHERE f.customer_initiated AND f.one_touch) AS one_touch"
        ", count(*) FILTER (WHERE f.reopens >= 1) AS reopened"
        ", count(*) FILTER (WHERE f.escalations >= 1) AS escalated"
    )
    return _grouped(q, select, group, "f.final_solve_at", w, "f.final_solve_assignee_id")


def _open_spans(w: Window, condition: str, *params: Any) -> _Query:
    q = _Query("metrics_ticketstatespan f")
    q.add("f.is_open")
    q.add(condition, *params)
    q.ticket_filters(w, w.kind_for("backlog"), "f")
    if w.agent_id is not None:
        q.add("f.assignee_id = %s", w.agent_id)
    return q


def _open_at(w: Window, at: datetime, columns: str) -> tuple[str, list[Any]]:
    """Open spans containing `at` ((from, to] bounds), as two index-friendly parts."""
    still_open = _open_spans(w, "f.ends_at IS NULL AND f.starts_at < %s", at)
    ended = _open_spans(w, "f.ends_at IS NOT NULL AND f.ends_at >= %s AND f.starts_at < %s", at, at)
    first, first_params = still_open.sql(columns, None)
    second, second_params = ended.sql(columns, None)
    return f"{first} UNION ALL {second}", [*first_params, *second_params]


def backlog_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    """Open at `end`; with a day/week group, open at the end of each bucket in the window.

    Over time: backlog at the window's start (`opening`), plus the open stretches that
    began minus those that ended in each bucket, summed up to that bucket (so no bucket
    scans the whole backlog again). The last bucket's count is the backlog at `end`.
    """
    if isinstance(group, Sets):
        group = group.bucket
    days = _counted_days(w, group)
    if days is None:
        return _backlog_rows(w, group)
    # An open span counts from the day after the one it began until the day it ended.
    change = "sum(f.opened - f.closed)"
    if group is None:
        q = _day_counts(w, "f.day < %s", days[1])
        counted = q.sql(f"COALESCE({change}, 0)::bigint AS count", None)
    else:
        base, base_params = _day_counts(w, "f.day < %s", days[0]).sql(
            f"COALESCE({change}, 0) AS n", None
        )
        deltas, deltas_params = _day_counts(w, "f.day >= %s AND f.day < %s", *days).sql(
            f"{change} AS d",
            _day_bucket(cast(Bucket, group)),  # days count for these only
        )
        text, params = _backlog_series(base, deltas, group, w)
        counted = text, [*base_params, *deltas_params, *params]
    return _gated(counted, _backlog_rows(w, group), w.time_zone)


def _backlog_rows(w: Window, group: OneGroup) -> tuple[str, list[Any]]:
    columns = "f.ticket_id, f.starts_at, f.assignee_id, f.team_id"
    if group in ("day", "week"):
        base, base_params = _open_at(w, w.start, "1")
        began, began_params = _open_spans(
            w, "f.starts_at >= %s AND f.starts_at < %s", w.start, w.end
        ).sql(f"{_bucket_start(group, 'f.starts_at')} AS key, 1 AS d", None)
        ended, ended_params = _open_spans(
            w, "f.ends_at >= %s AND f.ends_at < %s", w.start, w.end
        ).sql(f"{_bucket_start(group, 'f.ends_at')} AS key, -1 AS d", None)
        tz = w.time_zone
        text, params = _backlog_series(
            f"SELECT count(*) AS n FROM ({base}) b",  # noqa: S608 (fixed fragments)
            f"SELECT key, sum(d) AS d FROM ({began} UNION ALL {ended}) u GROUP BY key",  # noqa: S608
            group,
            w,
        )
        return text, [*base_params, tz, *began_params, tz, *ended_params, *params]
    inner, params = _open_at(w, w.end, columns)
    if group == "rows":
        return f"SELECT f.ticket_id, f.starts_at AS at FROM ({inner}) f", params  # noqa: S608
    key = {"agent": "f.assignee_id", "team": "f.team_id"}.get(group or "")
    select = f"{key} AS key, count(*) AS count" if key else "count(*) AS count"
    text = f"SELECT {select} FROM ({inner}) f" + (" GROUP BY 1" if key else "")  # noqa: S608
    return text, params


def _backlog_series(base: str, deltas: str, group: str, w: Window) -> tuple[str, list[Any]]:
    """The backlog at the end of each bucket: `base` (column n, the backlog at the window's
    start) plus the running sum of `deltas` (key, d: its changes per bucket). The
    parameters returned follow those of `base` and `deltas`."""
    text = (
        f"WITH base AS ({base}), deltas AS ({deltas}),"  # noqa: S608 (fixed fragments)
        " keys AS (SELECT k::date AS key FROM generate_series("
        "date_trunc(%s, %s AT TIME ZONE %s), (%s AT TIME ZONE %s) - interval '1 microsecond',"
        " %s::interval) AS k)"
        " SELECT keys.key AS key,"
        " ((SELECT n FROM base) + sum(COALESCE(deltas.d, 0)) OVER (ORDER BY keys.key))::bigint"
        " AS count, (SELECT n FROM base)::bigint AS opening"
        " FROM keys LEFT JOIN deltas ON deltas.key = keys.key ORDER BY keys.key"
    )
    tz = w.time_zone
    return text, [group, w.start, tz, w.end, tz, f"1 {group}"]


def _counted_days(w: Window, group: Group) -> tuple[date, date] | None:
    """The window's local dates when tickets created and the backlog can be read from the
    day counts: whole local days, no agent (the counts know no assignee), and a total or
    a series (per agent or team, and the drill-down, count the rows themselves)."""
    if w.agent_id is not None or w.channel is not None:
        return None
    if isinstance(group, Sets):
        if group.people:
            return None
    elif group not in (None, "day", "week"):
        return None
    return whole_days(w.start, w.end, w.time_zone)


def _day_counts(w: Window, condition: str, *params: Any) -> _Query:
    q = _Query("metrics_daycount f")
    q.add(condition, *params)
    q.ticket_filters(w, w.kind_for("backlog"), "f")
    return q


def _day_bucket(bucket: Bucket) -> str:
    """The bucket of a day count, as _bucket_start gives it for an instant of that day."""
    return "f.day" if bucket == "day" else f"date_trunc('{bucket}', f.day::timestamp)::date"


def _days_grouped(q: _Query, select: str, nonempty: str, group: Group) -> tuple[str, list[Any]]:
    """Like _grouped for day counts; a bucket whose changes add up to nothing has no row,
    as a bucket without rows has none when the rows are counted themselves."""
    if group is None:
        return q.sql(select, None)
    where = " AND ".join(q.where)
    if isinstance(group, Sets):
        bucket = _day_bucket(group.bucket)
        text = (
            f"SELECT {bucket} AS bucket, 0 AS part, {select} FROM {q.table} WHERE {where}"  # noqa: S608
            f" GROUP BY GROUPING SETS ((), (1)) HAVING GROUPING({bucket}) = 1 OR {nonempty}"
        )
    else:
        bucket = _day_bucket(group)  # type: ignore[arg-type]
        text = (
            f"SELECT {bucket} AS key, {select} FROM {q.table} WHERE {where}"  # noqa: S608
            f" GROUP BY 1 HAVING {nonempty}"
        )
    return text, q.params


def _gated(counted: tuple[str, list[Any]], rows: tuple[str, list[Any]], time_zone: str):
    """The day counts' statement if they are kept in `time_zone`, else the one counting
    the rows: both in one statement, each behind a filter the planner checks once (the
    other branch never runs)."""
    kept = "EXISTS (SELECT FROM metrics_daycountzone WHERE name = %s)"
    text = (
        f"SELECT * FROM ({counted[0]}) counted WHERE {kept}"  # noqa: S608 (fixed fragments)
        f" UNION ALL SELECT * FROM ({rows[0]}) counting WHERE NOT {kept}"
    )
    return text, [*counted[1], time_zone, *rows[1], time_zone]


def _survey_query(w: Window, survey: str, figure: str | None) -> _Query:
    q = _Query("metrics_surveyresponse r")
    q.add("r.kind = %s", survey)
    q.add("r.submitted_at >= %s AND r.submitted_at < %s", w.start, w.end)
    if figure is not None:  # NPS is asked of a customer: no ticket filter applies
        q.table += " LEFT JOIN tickets_ticket f ON f.number = r.ticket_id"
        q.ticket_filters(w, w.kind_for(figure), "f", "number")
        if w.agent_id is not None:
            q.add("r.assignee_id = %s", w.agent_id)
    return q


def csat_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    q = _survey_query(w, "csat", "csat")
    select = "count(*) AS count, count(*) FILTER (WHERE r.score >= 4) AS satisfied"
    return _grouped(q, select, group, "r.submitted_at", w, "r.assignee_id")


def ces_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    q = _survey_query(w, "ces", "ces")
    return _grouped(
        q,
        "count(*) AS count, avg(r.score)::float AS mean",
        group,
        "r.submitted_at",
        w,
        "r.assignee_id",
    )


def nps_sql(w: Window, group: Group = None) -> tuple[str, list[Any]]:
    q = _survey_query(w, "nps", None)
    select = (
        "count(*) AS count, count(*) FILTER (WHERE r.score >= 9) AS promoters,"
        " count(*) FILTER (WHERE r.score BETWEEN 7 AND 8) AS passives,"
        " count(*) FILTER (WHERE r.score <= 6) AS detractors"
    )
    if group in ("agent", "team", "rows"):
        group = None
    return _grouped(q, select, group, "r.submitted_at", w, None)


FIGURES = {
    "tickets_created": tickets_created_sql,
    "first_response": first_response_sql,
    "resolution": resolution_sql,
    "backlog": backlog_sql,
    "csat": csat_sql,
    "ces": ces_sql,
    "nps": nps_sql,
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def shape(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """One figure's row as the API shows it: counts, unrounded numbers, null when empty."""
    count = row.get("count") or 0
    if name in ("tickets_created", "backlog"):
        return {"count": count}
    if name == "first_response":
        return {
            "count": count,
            "mean_seconds": _float(row.get("mean")),
            "median_seconds": _float(row.get("median")),
            "p90_seconds": _float(row.get("p90")),
        }
    if name == "resolution":
        fcr_count = row.get("fcr_count") or 0
        return {
            "resolution": {
                "count": count,
                "mean_seconds": _float(row.get("mean")),
                "median_seconds": _float(row.get("median")),
                "p90_seconds": _float(row.get("p90")),
            },
            "first_contact_resolution": {
                "count": fcr_count,
                "rate": _ratio(row.get("one_touch") or 0, fcr_count),
            },
            "reopen": {"count": count, "rate": _ratio(row.get("reopened") or 0, count)},
            "escalation": {"count": count, "rate": _ratio(row.get("escalated") or 0, count)},
        }
    if name == "csat":
        satisfied = row.get("satisfied") or 0
        return {"responses": count, "score": 100 * satisfied / count if count else None}
    if name == "ces":
        return {"responses": count, "mean": _float(row.get("mean"))}
    if name == "nps":
        promoters, detractors = row.get("promoters") or 0, row.get("detractors") or 0
        return {
            "responses": count,
            "score": 100 * (promoters - detractors) / count if count else None,
            "promoters": promoters,
            "passives": row.get("passives") or 0,
            "detractors": detractors,
        }
    raise KeyError(name)


def summary(w: Window) -> dict[str, Any]:
    """Every figure of the window in one round trip: one row of scalar subqueries."""
    parts, params = [], []
    for name, build in FIGURES.items():
        text, part_params = build(w)
        parts.append(f"(SELECT row_to_json(x) FROM ({text}) x) AS {name}")  # noqa: S608
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        values = cursor.fetchone()
    rows = dict(zip(FIGURES, values, strict=True))
    resolution = shape("resolution", rows["resolution"])
    return {
        "tickets_created": shape("tickets_created", rows["tickets_created"])["count"],
        "first_response": shape("first_response", rows["first_response"]),
        **resolution,
        "backlog": shape("backlog", rows["backlog"])["count"],
        "csat": shape("csat", rows["csat"]),
        "nps": shape("nps", rows["nps"]),
        "ces": shape("ces", rows["ces"]),
    }


def grouped(name: str, w: Window, group: Group) -> dict[Any, dict[str, Any]]:
    """One figure per agent, team, day or week: {key: shaped figure}."""
    return {key: shape(name, row) for key, row in fetch(*FIGURES[name](w, group)).items()}


def fetch(text: str, params: list[Any]) -> dict[Any, dict[str, Any]]:
    """Rows by their first column ("key"), or {None: row} for a single ungrouped row."""
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    return {row.get("key"): row for row in rows}
