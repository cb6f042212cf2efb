"""The support dashboard broken down by a choice field (issue #17): per value, the same
figures and filters as the per-agent and per-team tables; rows add up to the totals."""

from __future__ import annotations

import pytest
from django.test import Client

from metrics.aggregates import field_group_key
from tests.conftest import Personas
from tests.metrics.test_dashboards import _history, manager
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Ticket

pytestmark = pytest.mark.django_db
__all__ = ["manager"]  # the fixture, shared with the dashboard tests


@pytest.fixture
def plans(personas: Personas) -> list[Ticket]:
    services.save_definition(
        FieldDefinition(
            key="plan",
            label="Plan",
            type=FieldType.CHOICE,
            applies_to=AppliesTo.TICKET,
            choices=["pro", "free", "trial"],
        )
    )
    tickets = _history(personas, 6)
    for ticket, plan in zip(tickets, ["pro", "pro", "free", "free"], strict=False):
        Ticket.objects.filter(pk=ticket.pk).update(fields={"plan": plan})
    return tickets


def rows(client: Client, query: str) -> list[tuple]:
    response = client.get(f"/dashboards/support/?by_field=plan{query}")
    assert response.status_code == 200
    field = response.context["field"]
    assert field["label"] == "Plan"
    return [(r["name"], r["created"], r["frt_count"], r["solved"]) for r in field["rows"]]


def test_figures_per_value_add_up(manager: Client, plans) -> None:
    # Tickets 1, 2, 4 and 5 are solved; every ticket had a first reply.
    assert rows(manager, "") == [
        ("pro", 2, 2, 1),
        ("free", 2, 2, 1),
        ("(empty)", 2, 2, 2),
    ]
    page = manager.get("/dashboards/support/?by_field=plan").content.decode()
    assert '<option value="plan" selected>Plan</option>' in page
    assert "By Plan" in page


def test_the_other_filters_apply(manager: Client, personas: Personas, plans) -> None:
    assert rows(manager, f"&team={personas.team_b.pk}") == []
    # Agent A replied first to and holds the odd tickets (1, 3 and 5).
    assert rows(manager, f"&agent={personas.agent_a.pk}") == [
        ("pro", 1, 1, 1),
        ("free", 1, 1, 0),
        ("(empty)", 1, 1, 1),
    ]


def test_no_breakdown_without_a_choice_field_and_agents_see_nothing(
    manager: Client, personas: Personas, plans
) -> None:
    assert manager.get("/dashboards/support/").context["field"] is None
    assert manager.get("/dashboards/support/?by_field=nope").context["field"] is None
    agent = Client()
    agent.force_login(personas.agent_a)
    assert agent.get("/dashboards/support/?by_field=plan").status_code == 403


def test_only_a_slug_reaches_the_sql() -> None:
    assert field_group_key("field:plan") == "plan"
    assert field_group_key("field:pl'an") is None
    assert field_group_key("team") is None
