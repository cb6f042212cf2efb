"""GET /api/v1/metrics/summary/: every figure computed by hand on a small history."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

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
from tickets.models import BusinessCalendar, Direction

pytestmark = pytest.mark.django_db
URL = "/api/v1/metrics/summary/"


@pytest.fixture
def history(personas: Personas) -> dict:
    p = personas
    # A: support, one touch. FRT 1 h, resolution 2 h.
    a = open_ticket(p.mailbox_a, p.customer, team=p.team_a)
    assign(a, p.agent_a, hours(0.5))
    reply(a, p.agent_a, hours(1))
    set_status(a, p.agent_a, "solved", hours(2))
    # B: support, created at +1 h, reopened once. FRT 3 h, final resolution 7 h.
    b = open_ticket(p.mailbox_b, p.other_customer, at=hours(1), team=p.team_b)
    assign(b, p.agent_b, hours(1))
    reply(b, p.agent_b, hours(4))
    set_status(b, p.agent_b, "solved", hours(5))
    customer_writes(b, hours(6))
    reply(b, p.agent_b, hours(7))
    set_status(b, p.agent_b, "solved", hours(8))
    # C: support, created at +2 h, never answered: backlog.
    c = open_ticket(p.mailbox_a, make_customer(), at=hours(2))
    # D: service outreach by agent A at +3 h, solved at +5 h.
    d = open_ticket(
        p.mailbox_a,
        p.customer,
        at=hours(3),
        kind="service",
        direction=Direction.OUTBOUND,
        actor=services.Actor.agent(p.agent_a),
    )
    set_status(d, p.agent_a, "solved", hours(5))
    # E: support, two days old, answered, still open: backlog, not created in the window.
    e = open_ticket(p.mailbox_a, make_customer(), at=hours(-48))
    reply(e, p.agent_a, hours(-47))
    recompute_all()
    surveys = [
        ("csat", 5, a, p.customer, p.agent_a, 3, ""),
        ("csat", 3, b, p.other_customer, p.agent_b, 10, ""),
        ("ces", 6, a, p.customer, p.agent_a, 3, ""),
        ("ces", 5, b, p.other_customer, p.agent_b, 10, ""),
        ("nps", 10, None, p.customer, None, 4, "n1"),
        ("nps", 9, None, p.other_customer, None, 4, "n2"),
        ("nps", 7, None, make_customer(), None, 4, "n3"),
        ("nps", 3, None, make_customer(), None, 4, "n4"),
    ]
    for kind, score, ticket, customer, assignee, at, key in surveys:
        SurveyResponse.objects.create(
            kind=kind,
            score=score,
            ticket=ticket,
            customer=customer,
            assignee=assignee,
            submitted_at=hours(at),
            external_key=key,
        )
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def get(client: APIClient, **params: str):
    return client.get(URL + "?" + urlencode(params))


@pytest.fixture
def manager(personas: Personas) -> APIClient:
    client = APIClient()
    client.force_authenticate(personas.manager)
    return client


def window(start: float = 0, end: float = 24, **extra: str) -> dict[str, str]:
    return {"start": hours(start).isoformat(), "end": hours(end).isoformat(), **extra}


def test_full_summary_with_default_kinds(manager: APIClient, history: dict) -> None:
    response = get(manager, **window())
    assert response.status_code == 200
    assert response.json() == {
        "start": hours(0).isoformat(),
        "end": hours(24).isoformat(),
        "kind": None,
        "hours": "calendar",
        "tickets_created": 4,  # A, B, C, D (all kinds)
        "first_response": {
            "count": 2,
            "mean_seconds": 7200.0,
            "median_seconds": 7200.0,
            "p90_seconds": 3600 + 0.9 * 7200,
        },
        "resolution": {
            "count": 2,
            "mean_seconds": 16200.0,
            "median_seconds": 16200.0,
            "p90_seconds": 7200 + 0.9 * 18000,
        },
        "first_contact_resolution": {"count": 2, "rate": 0.5},
        "reopen": {"count": 2, "rate": 0.5},
        "escalation": {"count": 2, "rate": 0.0},
        "backlog": 2,  # C and E
        "csat": {"responses": 2, "score": 50.0},
        "nps": {"responses": 4, "score": 25.0, "promoters": 2, "passives": 1, "detractors": 1},
        "ces": {"responses": 2, "mean": 5.5},
    }


def test_explicit_kind_applies_to_every_ticket_figure(manager: APIClient, history: dict) -> None:
    data = get(manager, **window(kind="all")).json()
    assert data["kind"] == "all"
    assert data["resolution"]["count"] == 3  # D joins
    assert data["first_contact_resolution"] == {"count": 2, "rate": 0.5}  # D is agent-initiated
    assert data["reopen"] == {"count": 3, "rate": pytest.approx(1 / 3)}
    service = get(manager, **window(kind="service")).json()
    assert service["tickets_created"] == 1
    assert service["first_response"]["count"] == 0
    assert service["resolution"]["mean_seconds"] == 7200.0
    assert service["backlog"] == 0
    assert service["csat"]["responses"] == 0
    assert service["nps"]["responses"] == 4  # NPS takes no ticket filter


def test_agent_team_and_mailbox_filters(
    manager: APIClient, history: dict, personas: Personas
) -> None:
    agent_a = get(manager, **window(agent=personas.agent_a.email)).json()
    assert agent_a["tickets_created"] == 1  # assignee at the end: A only
    assert agent_a["first_response"]["count"] == 1
    assert agent_a["first_response"]["p90_seconds"] == 3600.0
    assert agent_a["resolution"]["count"] == 1
    assert agent_a["csat"] == {"responses": 1, "score": 100.0}
    assert agent_a["backlog"] == 0  # C and E are unassigned
    team_b = get(manager, **window(team="Team B")).json()
    assert (team_b["tickets_created"], team_b["resolution"]["mean_seconds"]) == (1, 25200.0)
    mailbox_b = get(manager, **window(mailbox="B@tandem.test")).json()
    assert mailbox_b["first_response"]["mean_seconds"] == 10800.0
    assert mailbox_b["nps"]["responses"] == 4


def test_window_cutting_through_tickets(manager: APIClient, history: dict) -> None:
    data = get(manager, **window(start=1.5)).json()
    assert data["tickets_created"] == 2  # C and D; B was created at +1 h
    assert data["first_response"]["count"] == 1  # B's reply at +4 h; A's was at +1 h
    assert data["resolution"]["count"] == 2  # final solves at +2 h and +8 h
    # Backlog at +4.5 h: B (open since +0), C and E.
    assert get(manager, **window(end=4.5)).json()["backlog"] == 3
    # At +5 h exactly B's solve is not yet "before the end": still backlog.
    assert get(manager, **window(end=5)).json()["backlog"] == 3
    assert get(manager, **window(end=5.5)).json()["backlog"] == 2


def test_empty_window_counts_zero_and_nulls(manager: APIClient, history: dict) -> None:
    data = get(manager, **window(start=1000, end=1001)).json()
    assert data["tickets_created"] == 0
    assert data["first_response"] == {
        "count": 0,
        "mean_seconds": None,
        "median_seconds": None,
        "p90_seconds": None,
    }
    assert data["first_contact_resolution"] == {"count": 0, "rate": None}
    assert data["csat"] == {"responses": 0, "score": None}
    assert data["nps"]["score"] is None and data["nps"]["promoters"] == 0
    assert data["ces"] == {"responses": 0, "mean": None}
    assert data["backlog"] == 2  # C and E are still open


def test_business_hours(manager: APIClient, history: dict) -> None:
    BusinessCalendar.objects.create(
        name="Early", timezone="UTC", hours={"mon": [["08:00", "09:00"]]}, is_default=True
    )
    recompute_all()
    data = get(manager, **window(hours="business")).json()
    # A: 08:00-09:00 all inside; B: created 09:00, answered 12:00, nothing inside.
    assert data["first_response"]["mean_seconds"] == 1800.0
    assert data["hours"] == "business"


def test_offsets_are_respected(manager: APIClient, history: dict) -> None:
    berlin = {"start": "2026-03-02T09:00:00+01:00", "end": "2026-03-03T09:00:00+01:00"}
    assert get(manager, **berlin).json()["tickets_created"] == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "sales"}, "kind"),
        ({"hours": "wall"}, "hours"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-02T08:00:00"}, "start"),
        ({"start": "0001-01-01T00:00:00+00:00"}, "start"),
        ({"start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, "end"),
        ({"team": "Nobody"}, "team"),
        ({"agent": "ghost@staff.test"}, "agent"),
        ({"agent": "li@customer.test"}, "agent"),
        ({"agent": "not an email"}, "agent"),
        ({"mailbox": "nowhere@tandem.test"}, "mailbox"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_parameters(manager: APIClient, personas: Personas, params, field) -> None:
    response = get(manager, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert list(body["errors"]) == [field]


def test_defaults_to_the_last_30_days(manager: APIClient, personas: Personas) -> None:
    data = get(manager).json()
    assert data["tickets_created"] == 0
    assert data["kind"] is None


def test_permissions(personas: Personas, history: dict) -> None:
    client = APIClient()
    anonymous = client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }
    for user in (personas.agent_a, personas.customer.user):
        client.force_authenticate(user)
        response = client.get(URL)
        assert response.status_code == 403
        assert response.json()["detail"] == "Only managers and admins may read metrics."
    token = Token.objects.create(user=personas.admin)
    client.force_authenticate(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_query_count(manager: APIClient, history: dict, django_assert_num_queries) -> None:
    # One statement for every figure (force_authenticate skips the session lookups).
    with django_assert_num_queries(1):
        assert get(manager, **window()).status_code == 200
    # Each name filter is resolved once: team, agent, mailbox, then the statement.
    params = window(team="Team A", agent="agent.a@staff.test", mailbox="a@tandem.test")
    with django_assert_num_queries(4):
        assert get(manager, **params).status_code == 200


def test_backlog_over_time_matches_backlog_at_each_end(history: dict, personas: Personas) -> None:
    from datetime import timedelta as td

    from metrics.aggregates import Window, grouped, summary

    start = hours(-72)
    series = grouped("backlog", Window(start=start, end=hours(30)), "day")
    assert len(series) == 5  # four whole UTC days and the part of the fifth
    for day, value in series.items():
        end = min(
            hours(30), start.replace(hour=0, minute=0) + td(days=(day - start.date()).days + 1)
        )
        assert value["count"] == summary(Window(start=start, end=end))["backlog"], day
    # Agent-filtered: B (agent B's) is still open at +8 h, its solve is not before the end.
    agent_b = personas.agent_b.pk
    agent_series = grouped(
        "backlog", Window(start=hours(-8), end=hours(8), agent_id=agent_b), "day"
    )
    assert [v["count"] for v in agent_series.values()] == [1]
