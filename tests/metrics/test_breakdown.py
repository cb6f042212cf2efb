"""metrics.breakdown (one statement per dashboard figure) equals the separate queries.

The dashboards read each figure once for both windows, the series and the per-agent and
per-team columns; the summary API and grouped() read them one by one. Over a history
that spans both windows, with every filter, both kinds of hours and both bucket sizes,
the two paths must give the same numbers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from metrics.aggregates import FIGURES, Window, grouped, summary
from metrics.breakdown import breakdown
from metrics.models import SurveyResponse
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.factories import (
    assign,
    customer_writes,
    hours,
    make_customer,
    open_ticket,
    reply,
    set_status,
)
from tickets import services
from tickets.models import Direction

pytestmark = pytest.mark.django_db

PEOPLE = {"first_response", "resolution", "ces", "csat"}


@pytest.fixture
def history(personas: Personas) -> None:
    """Three weeks of tickets from T0 - 14 days on, handled by both agents and teams."""
    p = personas
    for n in range(21):
        at = hours(-14 * 24 + n * 17)
        agent, team, mailbox = (
            (p.agent_a, p.team_a, p.mailbox_a) if n % 3 else (p.agent_b, p.team_b, p.mailbox_b)
        )
        if n % 5 == 4:
            ticket = open_ticket(
                mailbox,
                make_customer(),
                at=at,
                team=team,
                kind="service",
                direction=Direction.OUTBOUND,
                actor=services.Actor.agent(agent),
            )
        else:
            ticket = open_ticket(mailbox, make_customer(), at=at, team=team)
        assign(ticket, agent, at + timedelta(minutes=10))
        if n % 4 != 3:
            reply(ticket, agent, at + timedelta(hours=1 + n % 6))
        if n % 4 in (0, 1):
            set_status(ticket, agent, "solved", at + timedelta(hours=9 + n))
        if n % 4 == 1:  # reopened, handed to the other agent, solved again
            customer_writes(ticket, at + timedelta(hours=30 + n))
            other = p.agent_b if agent == p.agent_a else p.agent_a
            assign(ticket, other, at + timedelta(hours=31 + n))
            reply(ticket, other, at + timedelta(hours=32 + n))
            set_status(ticket, other, "solved", at + timedelta(hours=40 + n))
        for kind, score in (("csat", 1 + n % 5), ("ces", 1 + n % 7)):
            if n % 2:
                SurveyResponse.objects.create(
                    kind=kind,
                    score=score,
                    ticket=ticket,
                    customer=ticket.customer,
                    assignee=agent,
                    submitted_at=at + timedelta(hours=50),
                )
        SurveyResponse.objects.create(
            kind="nps",
            score=n % 11,
            customer=ticket.customer,
            submitted_at=at + timedelta(hours=20),
            external_key=f"nps-{n}",
        )
    recompute_all()


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: avg() may add the same rows in another order."""
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value


def _from_summary(name: str, data: dict[str, Any]) -> dict[str, Any]:
    if name in ("tickets_created", "backlog"):
        return {"count": data[name]}
    if name == "resolution":
        keys = ("resolution", "first_contact_resolution", "reopen", "escalation")
        return {key: data[key] for key in keys}
    return data[name]


def _windows(p: Personas) -> list[tuple[Window, str]]:
    week = Window(start=hours(-7 * 24), end=hours(0), kind="support")
    return [
        (week, "day"),
        (replace(week, kind=None), "day"),
        (replace(week, kind="all", hours="business"), "week"),
        (replace(week, kind="service"), "day"),
        (replace(week, team_id=p.team_a.pk), "day"),
        (replace(week, agent_id=p.agent_a.pk), "day"),
        (replace(week, agent_id=p.agent_b.pk, kind="all"), "week"),
        (replace(week, mailbox_id=p.mailbox_b.pk, time_zone="Europe/Berlin"), "day"),
        (Window(start=hours(-3 * 24 - 5), end=hours(4 * 24), kind="support"), "week"),
        (Window(start=hours(-400 * 24), end=hours(-300 * 24)), "week"),  # empty
    ]


def test_breakdown_equals_summary_and_grouped(personas: Personas, history: None) -> None:
    checked = 0
    for w, bucket in _windows(personas):
        now, before = summary(w), summary(w.previous())
        for name in FIGURES:
            people = name in PEOPLE
            got = _rounded(breakdown(name, w, bucket, people=people).__dict__)
            want = {
                "now": _from_summary(name, now),
                "previous": _from_summary(name, before),
                "series": grouped(name, w, bucket),  # type: ignore[arg-type]
                "agents": grouped(name, w, "agent") if people else {},
                "teams": grouped(name, w, "team") if people else {},
            }
            assert got == _rounded(want), (name, w, bucket)
            checked += bool(got["now"].get("count") or got["now"].get("responses"))
    # The history does reach the figures: most (window, figure) pairs are not empty.
    assert checked > 40


def test_backlog_breakdown_is_the_backlog_at_both_ends(personas: Personas, history: None) -> None:
    w = Window(start=hours(-7 * 24), end=hours(0))
    backlog = breakdown("backlog", w, "day")
    assert backlog.previous == {"count": summary(w.previous())["backlog"]}
    assert backlog.now == {"count": summary(w)["backlog"]}
    assert backlog.now["count"] > 0
    # 08:00 to 08:00 a week later touches eight UTC days.
    assert list(backlog.series) == sorted(backlog.series) and len(backlog.series) == 8


def test_previous_window_of_whole_days_across_dst(personas: Personas) -> None:
    """The dashboards' windows are whole local days, their bounds in one zone object, so
    Python's wall-clock arithmetic on them makes the previous window whole days too."""
    zone = ZoneInfo("Europe/Berlin")
    # March 2026 in Berlin is 31 days but one hour short (clocks go forward on the 29th).
    march = Window(
        start=datetime(2026, 3, 1, tzinfo=zone),
        end=datetime(2026, 4, 1, tzinfo=zone),
        kind="all",
        time_zone="Europe/Berlin",
    )
    before = march.previous()
    assert (before.start, before.end) == (datetime(2026, 1, 29, tzinfo=zone), march.start)
    # A ticket created half an hour into the previous window's first day is compared.
    open_ticket(personas.mailbox_a, make_customer(), at=datetime(2026, 1, 29, 0, 30, tzinfo=zone))
    recompute_all()
    assert breakdown("tickets_created", march, "week").previous == {"count": 1}
    # A window that is not whole days: the same length just before it.
    w = Window(start=hours(-5), end=hours(0))
    assert (w.previous().start, w.previous().end) == (hours(-10), hours(-5))
