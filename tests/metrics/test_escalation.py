"""The escalation rate (docs/metrics.md): a hand-computed history, through both paths."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from metrics.models import TicketFigures
from metrics.services import recompute_all, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import assign, hours, make_mailbox, make_user, open_ticket, set_status
from tickets import services
from tickets.models import Role, Team, Ticket, User
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def move(ticket: Ticket, agent: User, team: Team | None, at: float) -> None:
    services.update_ticket(ticket, actor=Actor.agent(agent), at=hours(at), team=team)


@pytest.fixture
def desk(personas: Personas) -> dict:
    first = Team.objects.create(name="Front line", tier=1)
    other_first = Team.objects.create(name="Front line two", tier=1)
    second = Team.objects.create(name="Tier 2", tier=2)
    third = Team.objects.create(name="Engineering", tier=3)
    mailbox = make_mailbox(teams=[first, other_first, second, third])
    ana = make_user(Role.AGENT, teams=[first, second, third], first_name="Ana")
    ben = make_user(Role.AGENT, teams=[first, second, third], first_name="Ben")
    customer = personas.customer

    def ticket(team: Team | None, at: float = 0) -> Ticket:
        return open_ticket(mailbox, customer, at=hours(at), team=team)

    # A: front line -> tier 2, solved by Ana: escalated.
    a = ticket(first)
    move(a, ana, second, 1)
    assign(a, ana, hours(1))
    set_status(a, ana, "solved", hours(2))
    # B: no team -> tier 2 is routing, not an escalation; solved by Ben.
    b = ticket(None)
    move(b, ben, second, 1)
    assign(b, ben, hours(1))
    set_status(b, ben, "solved", hours(2))
    # C: sideways between two tier-1 teams; solved by Ana.
    c = ticket(first)
    move(c, ana, other_first, 1)
    assign(c, ana, hours(1))
    set_status(c, ana, "solved", hours(3))
    # D: down from tier 2 to the front line; solved by Ben.
    d = ticket(second)
    move(d, ben, first, 1)
    assign(d, ben, hours(1))
    set_status(d, ben, "solved", hours(3))
    # E: escalated but still open: not in the denominator.
    e = ticket(first)
    move(e, ana, second, 1)
    # F: up, down, up again and to tier 3: three escalations, one escalated ticket; Ben.
    f = ticket(first)
    move(f, ben, second, 1)
    move(f, ben, first, 2)
    move(f, ben, second, 3)
    move(f, ben, third, 4)
    assign(f, ben, hours(4))
    set_status(f, ben, "solved", hours(5))
    return {
        "teams": (first, other_first, second, third),
        "ana": ana,
        "ben": ben,
        "tickets": {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f},
    }


def test_each_ticket_counts_only_moves_to_a_higher_tier(desk: dict) -> None:
    expected = {"a": 1, "b": 0, "c": 0, "d": 0, "e": 1, "f": 3}
    tickets = desk["tickets"]
    for ticket in tickets.values():
        refresh_ticket_figures(ticket.pk)
    incremental = {
        name: TicketFigures.objects.get(ticket=ticket).escalations
        for name, ticket in tickets.items()
    }
    assert incremental == expected
    recompute_all()
    recomputed = {
        name: TicketFigures.objects.get(ticket=ticket).escalations
        for name, ticket in tickets.items()
    }
    assert recomputed == expected


def _summary(client: APIClient, **params: str) -> dict:
    query = {"start": hours(0).isoformat(), "end": hours(24).isoformat(), **params}
    response = client.get("/api/v1/metrics/summary/?" + urlencode(query))
    assert response.status_code == 200, response.content
    return response.json()["escalation"]


def test_rate_over_final_solves_by_agent_and_team(desk: dict, personas: Personas) -> None:
    recompute_all()
    client = APIClient()
    client.force_authenticate(personas.manager)
    # Solved in the window: A, B, C, D, F; escalated among them: A and F.
    assert _summary(client) == {"count": 5, "rate": 2 / 5}
    # By the assignee at the final solve: Ana solved A and C, Ben solved B, D and F.
    assert _summary(client, agent=desk["ana"].email) == {"count": 2, "rate": 0.5}
    assert _summary(client, agent=desk["ben"].email) == {"count": 3, "rate": 1 / 3}
    # By the ticket's team now: tier 2 holds A and B (A came by escalation).
    first, _, second, third = desk["teams"]
    assert _summary(client, team=second.name) == {"count": 2, "rate": 0.5}
    assert _summary(client, team=third.name) == {"count": 1, "rate": 1.0}
    assert _summary(client, team=first.name) == {"count": 1, "rate": 0.0}
    # A window that ends before any solve counts nothing and says null, never 0.
    empty = {"start": hours(0).isoformat(), "end": hours(1.5).isoformat()}
    assert _summary(client, **empty) == {"count": 0, "rate": None}


def test_dashboard_shows_the_rate_and_drills_down(desk: dict, client, personas: Personas) -> None:
    recompute_all()
    client.force_login(personas.manager)
    window = f"start={hours(0).date().isoformat()}&end={hours(24).date().isoformat()}"
    page = client.get(f"/dashboards/support/?{window}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Escalation rate" in html
    drill = client.get(f"/dashboards/tickets/?figure=escalation&{window}")
    assert drill.status_code == 200
    body = drill.content.decode()
    tickets = desk["tickets"]
    for name in ("a", "f"):
        assert f"/tickets/{tickets[name].pk}/" in body
    for name in ("b", "c", "d", "e"):
        assert f"/tickets/{tickets[name].pk}/" not in body


def test_team_tier_is_validated_in_settings(personas: Personas, client) -> None:
    client.force_login(personas.admin)
    response = client.post("/settings/teams/new/", {"name": "Tier zero", "tier": "0"})
    assert response.status_code == 422
    assert "greater than or equal to 1" in response.content.decode()
    assert not Team.objects.filter(name="Tier zero").exists()
    response = client.post("/settings/teams/new/", {"name": "Escalations", "tier": "2"})
    assert response.status_code == 302
    assert Team.objects.get(name="Escalations").tier == 2
