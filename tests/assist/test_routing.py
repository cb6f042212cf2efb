"""Learned routing: trained on the desk's own solved tickets, measured on held-out ones,
suggested on a new ticket with its confidence, applied in one click or by a rule, and
its accuracy in use counted from agents' corrections."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assist import routing, services
from assist.models import RoutingModel, Suggestion
from tests.assist.conftest import Desk, make_history
from tests.conftest import Personas
from tests.factories import make_customer
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.services import Actor
from tickets.workflow.models import AutomationRule

pytestmark = pytest.mark.django_db


def _new(desk: Desk, subject: str, body: str) -> Ticket:
    return ticket_services.create_ticket(
        mailbox=desk.mailbox, customer=make_customer(), subject=subject, body_text=body
    )


def test_held_out_accuracy_on_a_history_that_follows_the_words(
    desk: Desk, personas: Personas
) -> None:
    make_history(desk)
    run = routing.train()
    team = run.evaluation["team"]
    assert team["held_out"] == 60 and team["classes"] == 3
    assert team["accuracy"] >= 0.9, run.evaluation
    assert "invoice" in run.top_words["Billing"] or "refund" in run.top_words["Billing"]
    assert "error" in run.top_words["Tier 2"] or "crash" in run.top_words["Tier 2"]
    # Every ticket is support and normal in this history: nothing to learn, and it says so.
    assert "skipped" in run.evaluation["kind"]

    admin = Client()
    admin.force_login(personas.admin)
    page = admin.get(reverse("assist:settings")).content.decode()
    assert f"{round(team['accuracy'] * 100)}%" in page
    assert "Held-out accuracy" in page and "Billing" in page


def test_too_little_history_learns_nothing_and_suggests_nothing(desk: Desk) -> None:
    make_history(desk, n=9)
    run = routing.train()
    assert "skipped" in run.evaluation["team"]
    ticket = _new(desk, "Refund for my invoice", "I was charged twice.")
    assert routing.predict(ticket, "Refund for my invoice") == []


def test_a_suggestion_is_shown_applied_in_one_click_and_corrections_counted(
    desk: Desk, personas: Personas
) -> None:
    make_history(desk)
    routing.train()
    ticket = _new(desk, "Refund my invoice please", "I was overcharged on my card, refund it.")
    agent = Client()
    agent.force_login(desk.agent)
    panel = agent.get(reverse("assist:panel", args=[ticket.pk])).content.decode()
    assert "Suggested routing" in panel and "<strong>Billing</strong>" in panel
    suggestion = Suggestion.objects.get(ticket=ticket, field="team")
    assert suggestion.value == "Billing" and suggestion.confidence > 0.5
    assert f"{round(suggestion.confidence * 100)}%" in panel

    response = agent.post(reverse("assist:apply", args=[ticket.pk, suggestion.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.team == desk.billing
    suggestion.refresh_from_db()
    assert suggestion.applied_by == desk.agent

    # The agent knows better: moved to the front line, then solved. A correction.
    ticket_services.update_ticket(ticket, actor=Actor.agent(desk.agent), team=desk.front)
    ticket_services.update_ticket(ticket, actor=Actor.agent(desk.agent), status="solved")
    team = next(r for r in services.accuracy_in_use(suggestion.created_at) if r.field == "team")
    assert (team.suggested, team.applied, team.corrected, team.decided, team.right) == (
        1,
        1,
        1,
        1,
        0,
    )


def test_a_rule_applies_the_suggestion_above_the_confidence_an_admin_sets(
    desk: Desk, django_capture_on_commit_callbacks
) -> None:
    make_history(desk)
    routing.train()
    AutomationRule.objects.create(
        name="Route by learned model",
        trigger="created",
        conditions=[],
        actions=[{"type": "apply_routing", "value": 0.5}],
    )
    from tickets.workflow.automation import rules_changed

    rules_changed()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _new(desk, "App crash with error 500", "The upload fails with an exception.")
    ticket.refresh_from_db()
    assert ticket.team == desk.tier2
    suggestion = Suggestion.objects.get(ticket=ticket, field="team")
    assert suggestion.applied_at is not None and suggestion.applied_by is None


def test_a_light_agent_sees_suggestions_but_cannot_apply_them(
    desk: Desk, personas: Personas
) -> None:
    from tests.factories import make_user
    from tickets.models import Role

    make_history(desk)
    routing.train()
    ticket = _new(desk, "Refund my invoice", "Charged twice on my card.")
    light = make_user(Role.LIGHT_AGENT, teams=[desk.billing])
    client = Client()
    client.force_login(light)
    panel = client.get(reverse("assist:panel", args=[ticket.pk])).content.decode()
    assert "<strong>Billing</strong>" in panel and ">Apply<" not in panel
    suggestion = Suggestion.objects.get(ticket=ticket, field="team")
    assert client.post(reverse("assist:apply", args=[ticket.pk, suggestion.pk])).status_code == 403


def test_retrain_from_the_admin_screen(desk: Desk, personas: Personas) -> None:
    from assist.tasks import retrain_routing

    make_history(desk, n=60)
    admin = Client()
    admin.force_login(personas.admin)
    response = admin.post(reverse("assist:settings"), follow=True)
    assert response.status_code == 200
    assert "Retrain" in response.content.decode()
    # What the worker runs for the queued task (or what ran at once without a broker).
    runs = RoutingModel.objects.count()
    retrain_routing()
    assert RoutingModel.objects.count() == runs + 1
    agent = Client()
    agent.force_login(desk.agent)
    assert agent.get(reverse("assist:settings")).status_code == 403
