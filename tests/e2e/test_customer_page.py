"""A customer page reached from search, in a real browser (issue #17, item 1)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket
from tickets.models import CustomerEmail

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_page_reached_from_search(page, personas: Personas) -> None:
    li = personas.customer
    CustomerEmail.objects.create(customer=li, email="li@acme.test")
    first = make_ticket(personas.mailbox_a, li, subject="Printer on fire", body_text="Smoke!")
    make_ticket(personas.mailbox_a, li, subject="Invoice twice", body_text="Charged twice")
    make_ticket(personas.mailbox_b, li, subject="Other team's secret", body_text="Hidden")
    sign_in(page, personas.agent_a.email)

    page.keyboard.press("/")
    page.keyboard.type("li@acme.test")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=li%40acme.test|.*/search/\?q=li@acme.test"))
    people = page.locator("#people-results")
    people.get_by_role("link", name="Li Wei").click()
    page.wait_for_url(f"**/customers/{li.pk}/")

    assert page.locator("h1", has_text="Li Wei").is_visible()
    profile = page.locator("#profile").inner_text()
    assert "li@customer.test" in profile and "li@acme.test" in profile
    timeline = page.locator("#timeline")
    timeline.locator(".timeline-entry", has_text="Invoice twice").first.wait_for()
    text = timeline.inner_text()
    assert "Printer on fire" in text and "Smoke!" in text
    assert "Other team's secret" not in text

    # Edit in place: a phone number, shown once saved.
    page.locator("#edit-customer summary").click()
    page.locator("#id_phone").fill("+1 555 0100")
    page.get_by_role("button", name="Save").click()
    page.locator(".flash", has_text="Customer saved.").wait_for()
    assert "+1 555 0100" in page.locator("#profile").inner_text()

    # From the timeline to the ticket, whose customer panel links back.
    timeline = page.locator("#timeline")
    timeline.get_by_role("link", name=re.compile("Printer on fire")).first.click()
    page.wait_for_url(f"**/tickets/{first.number}/")
    page.locator("#customer-link").click()
    page.wait_for_url(f"**/customers/{li.pk}/")
