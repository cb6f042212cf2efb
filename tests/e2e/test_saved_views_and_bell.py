"""A saved view and the notification bell in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket
from tickets.models import Priority, SavedView

pytestmark = pytest.mark.django_db(transaction=True)


def test_save_the_inbox_filters_as_a_view_and_open_it_from_the_sidebar(
    page: Any, personas: Personas
) -> None:
    urgent = make_ticket(
        personas.mailbox_a, personas.customer, subject="Server down", priority=Priority.URGENT
    )
    make_ticket(personas.mailbox_a, personas.customer, subject="Typo on page")
    sign_in(page, personas.agent_a.email)
    page.locator(".filters select[name=priority]").select_option("urgent")
    page.wait_for_url("**priority=urgent**")

    page.locator(".save-view summary").click()
    page.get_by_label("Name").fill("Fires")
    page.locator(".save-view").get_by_label("Last updated").uncheck()
    page.locator(".save-view").get_by_role("button", name="Save").click()
    view = SavedView.objects.get(name="Fires")
    page.wait_for_url(f"**/?saved={view.pk}")
    assert view.columns == ["status", "priority", "assignee"]

    # In the sidebar, with its count.
    link = page.locator("#sidebar a", has_text="Fires")
    link.locator(".count", has_text="1").wait_for()

    # Elsewhere, then back through the sidebar: the view opens with its filters.
    page.locator("#sidebar a", has_text="All open").click()
    page.locator(".ticket-row", has_text="Typo on page").wait_for()
    page.locator("#sidebar a", has_text="Fires").click()
    page.wait_for_url(f"**/?saved={view.pk}")
    assert page.locator("h1").inner_text().startswith("Fires")
    rows = page.locator(".ticket-row")
    assert rows.count() == 1 and f"#{urgent.number}" in rows.first.inner_text()
    assert page.locator(".filters select[name=priority]").input_value() == "urgent"
    assert not page.locator("table.tickets th", has_text="Updated").is_visible()
    assert page.locator("#sidebar a[aria-current=page]", has_text="Fires").count() == 1


def test_a_mention_rings_the_bell_without_a_reload(
    page: Any, browser: Any, live_server: Any, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Refund request")
    other_context = browser.new_context(base_url=live_server.url)
    other_context.set_default_timeout(30_000)
    other = other_context.new_page()
    try:
        sign_in(page, personas.agent_a.email)
        page.locator("#bell-badge").wait_for(state="attached")
        assert page.locator("#bell-badge").get_attribute("data-unread") == "0"
        page.evaluate("window.__stillHere = true")

        # A manager mentions Ana in a note, in another browser.
        sign_in(other, personas.manager.email)
        other.goto(f"/tickets/{ticket.number}/")
        other.get_by_role("tab", name="Internal note").click()
        other.locator("textarea[name=body]:visible").fill("@agent.a can you take this?")
        other.get_by_role("button", name="Add note").click()
        other.locator(".msg-note", has_text="can you take this").wait_for()

        # Ana's open page polls the bell: the count comes without a reload.
        page.locator('#bell-badge[data-unread="1"]').wait_for(timeout=40_000)
        assert page.evaluate("window.__stillHere === true"), "the page reloaded"

        page.locator("#bell summary").click()
        item = page.locator("#bell-panel .notice-unread", has_text="mentioned you")
        item.wait_for()
        assert "Refund request" in item.inner_text()
        item.locator("button").click()
        page.wait_for_url(f"**/tickets/{ticket.number}/")
        page.locator('#bell-badge[data-unread="0"]').wait_for(state="attached")
    finally:
        other_context.close()
