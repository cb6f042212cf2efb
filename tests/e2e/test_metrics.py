"""A manager reads the dashboards and drills down; a customer answers a survey on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from metrics import surveys
from metrics.models import SurveyResponse
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import assign, open_ticket, reply, set_status

pytestmark = pytest.mark.django_db(transaction=True)


def _solved(p: Personas, subject_at: float = 3):
    start = timezone.now() - timedelta(hours=subject_at)
    ticket = open_ticket(p.mailbox_a, p.customer, at=start)
    assign(ticket, p.agent_a, start)
    reply(ticket, p.agent_a, start + timedelta(hours=1))
    set_status(ticket, p.agent_a, "solved", start + timedelta(hours=2))
    return ticket


def test_manager_reads_the_support_dashboard_and_drills_down(page, personas: Personas) -> None:
    solved = _solved(personas)
    open_ticket(personas.mailbox_a, personas.other_customer, at=timezone.now() - timedelta(hours=1))
    recompute_all()
    sign_in(page, personas.manager.email)
    page.goto("/dashboards/")
    assert page.get_by_role("heading", name="Support: speed and effort").is_visible()
    assert page.locator("svg.chart").count() == 4
    # Each definition waits behind its card's "?" until asked for.
    definition = page.get_by_text("time of the final solve minus creation time")
    assert not definition.is_visible()
    page.locator(".kpi", has_text="Resolution time").locator("summary").click()
    assert definition.is_visible()
    page.keyboard.press("Escape")  # closes it again
    assert not definition.is_visible()
    page.locator(".kpi", has_text="Resolution time").get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Final solves").is_visible()
    assert page.get_by_role("link", name=re.compile(f"#{solved.pk} ")).is_visible()
    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_role("link", name="Service").click()
    assert page.get_by_role("heading", name="Service: satisfaction and loyalty").is_visible()


def test_customer_answers_csat_and_ces_on_a_phone(phone_page, personas: Personas) -> None:
    ticket = _solved(personas)
    token = surveys.make_token("csat", ticket.customer_id, ticket_id=ticket.pk)
    phone_page.goto(f"/survey/{token}/?score=4")
    assert phone_page.locator("input[name=csat][value='4']").is_checked()
    assert not SurveyResponse.objects.exists()  # opening the link records nothing
    phone_page.locator(
        "label.scale-option", has=phone_page.locator("input[name=ces][value='6']")
    ).click()
    phone_page.get_by_label("Comment (optional)").fill("Fast and friendly")
    phone_page.get_by_role("button", name="Send my answer").click()
    assert phone_page.get_by_role("heading", name="Thank you!").is_visible()
    answers = dict(SurveyResponse.objects.values_list("kind", "score"))
    assert answers == {"csat": 4, "ces": 6}
    # The page fits the phone: no horizontal scrolling.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
