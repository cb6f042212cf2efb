"""One figure for a dashboard in one statement: this window and the previous one, this
window by bucket, and per agent and per team (aggregates.py builds the SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection

from metrics.aggregates import FIGURES, Bucket, Sets, Window, backlog_sql, fetch, shape


@dataclass
class Breakdown:
    """One figure for a dashboard, shaped like summary() and grouped() give it."""

    now: dict[str, Any]
    previous: dict[str, Any]
    series: dict[date, dict[str, Any]]
    agents: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    teams: dict[int | None, dict[str, Any]] = field(default_factory=dict)


def breakdown(name: str, w: Window, bucket: Bucket, *, people: bool = False) -> Breakdown:
    """This window and the previous one, this window by bucket (and per agent and per team
    with `people`), in one statement that reads each window's rows once.

    Equal to summary(w), summary(w.previous()), grouped(name, w, bucket) and grouped(name,
    w, "agent" / "team"): the previous window is the summary's own SQL, this window the
    same builder grouped by GROUPING SETS.
    """
    if name == "backlog":
        # Backlog at the previous window's end is the series' opening figure, at this
        # window's end its last bucket.
        series = fetch(*backlog_sql(w, bucket))
        last = max(series)
        return Breakdown(
            now={"count": series[last]["count"]},
            previous={"count": series[last]["opening"]},
            series={key: shape(name, row) for key, row in series.items()},
        )
    if name == "nps":
        people = False  # asked of a customer: no agent or team
    before, before_params = FIGURES[name](w.previous(), None)
    now, now_params = FIGURES[name](w, Sets(bucket=bucket, people=people))
    keys = "NULL::date AS bucket, " + (
        "NULL::bigint AS agent, NULL::bigint AS team, " if people else ""
    )
    total = 0b11 if people else 0  # `part` of the rows without agent or team
    text = (
        f"SELECT false AS current, {keys}{total} AS part, b.* FROM ({before}) b"  # noqa: S608
        f" UNION ALL SELECT true, n.* FROM ({now}) n"
    )
    result = Breakdown(now=shape(name, {}), previous=shape(name, {}), series={})
    with connection.cursor() as cursor:
        cursor.execute(text, [*before_params, *now_params])
        columns = [c.name for c in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(columns, values, strict=True))
            figure, part = shape(name, row), row["part"]
            if not row["current"]:
                result.previous = figure
            elif row["bucket"] is not None:
                result.series[row["bucket"]] = figure
            elif part == total:
                result.now = figure
            elif part == 0b01:
                result.agents[row["agent"]] = figure
            elif part == 0b10:
                result.teams[row["team"]] = figure
    return result
