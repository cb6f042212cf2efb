"""The agent workspace in a real browser: open, reply, change in place, search, keyboard."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_customer, make_ticket
from tickets.models import Direction, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def expect_no_reload(page) -> None:
    """Mark the window; a full page load would drop the mark."""
    page.evaluate("window.__stillHere = true")


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__stillHere === true"), "the page reloaded"


def test_open_a_ticket_reply_and_change_status_in_place(page, personas: Personas) -> None:
    ticket = make_ticket(
        personas.mailbox_a, personas.customer, subject="Printer on fire", body_text="Smoke!"
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, personas.agent_a.email)
    page.get_by_role("link", name="Printer on fire").click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    assert "Smoke!" in page.locator(".conversation").inner_text()

    expect_no_reload(page)
    page.locator("#reply-body").fill("We are sending a technician.")
    page.get_by_role("button", name="Send reply").click()
    reply = page.locator(".msg-outbound").filter(has_text="We are sending a technician.")
    reply.wait_for()
    assert "Queued" in reply.inner_text()
    assert page.locator("#reply-body").input_value() == ""
    assert_no_reload(page)

    page.locator("#prop-status").select_option("pending")
    page.locator("#ticket-head .badge", has_text="Pending").wait_for()
    page.locator("#activity", has_text="changed status from Open to Pending").wait_for()
    assert_no_reload(page)

    page.locator("#prop-tags").fill("hardware, onsite")
    page.locator("#prop-tags").press("Tab")
    page.locator("#activity", has_text="changed tags").wait_for()

    # Everything above ran under the strict CSP (scripts from our origin only).
    assert not [line for line in console if "Content Security Policy" in line]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.tags == ["hardware", "onsite"]
    assert ticket.messages.filter(direction=Direction.OUTBOUND).count() == 1


def test_internal_note_and_invalid_change_error(page, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Closed one")
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    sign_in(page, personas.agent_a.email)
    page.goto(f"/tickets/{ticket.number}/")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "note-body"
    page.keyboard.type("Customer called, all good")
    page.keyboard.press("Control+Enter")
    page.locator(".msg-note", has_text="Customer called, all good").wait_for()
    assert "not visible to the customer" in page.locator(".msg-note").inner_text()

    page.locator("#prop-status").select_option("open")
    page.locator("#update-error", has_text="cannot be reopened").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_search_from_the_top_bar(page, personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer, subject="Login", body_text="The zebra icon")
    make_ticket(personas.mailbox_b, personas.customer, subject="Hidden", body_text="zebra too")
    sign_in(page, personas.agent_a.email)
    page.keyboard.press("/")
    page.keyboard.type("zebra")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=zebra"))
    results = page.locator(".results")
    assert results.locator("mark", has_text="zebra").count() == 1
    assert "Hidden" not in results.inner_text()


def test_keyboard_navigation(page, personas: Personas) -> None:
    oldest = make_ticket(personas.mailbox_a, personas.customer, subject="Oldest")
    make_ticket(personas.mailbox_a, personas.customer, subject="Middle")
    make_ticket(personas.mailbox_a, personas.customer, subject="Newest")
    sign_in(page, personas.agent_a.email)
    page.keyboard.press("?")
    assert page.locator("#help-overlay").is_visible()
    assert "Next / previous ticket" in page.locator("#help-overlay").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("#help-overlay").is_visible()

    for key in ("j", "j", "j", "j", "k", "j"):
        page.keyboard.press(key)
    current = page.locator(".ticket-row.is-current")
    assert current.count() == 1 and "Oldest" in current.inner_text()
    page.keyboard.press("o")
    page.wait_for_url(f"**/tickets/{oldest.number}/")

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.id") == "prop-assignee"
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    page.locator("#ticket-head .badge", has_text="Solved").wait_for()
    oldest.refresh_from_db()
    assert oldest.status == Status.SOLVED


def test_bulk_assign_from_the_list(page, personas: Personas) -> None:
    first = make_ticket(personas.mailbox_a, personas.customer, subject="First")
    second = make_ticket(personas.mailbox_a, personas.customer, subject="Second")
    sign_in(page, personas.agent_a.email)
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    page.locator("#bulk-form select[name=assignee]").select_option(str(personas.agent_a.pk))
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("Updated 2 tickets.").wait_for()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.assignee == personas.agent_a and second.assignee == personas.agent_a


def test_live_counts_in_the_sidebar(page, personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    make_ticket(personas.mailbox_a, personas.customer)
    sign_in(page, personas.agent_a.email)
    badge = page.locator("[data-count-key=unassigned] .count")
    badge.wait_for()
    assert badge.inner_text() == "2"


def test_phone_layout_has_no_sideways_scrolling(phone_page, personas: Personas) -> None:
    ticket = make_ticket(
        personas.mailbox_a, personas.customer, subject="A rather long subject line " * 3
    )
    sign_in(phone_page, personas.agent_a.email)
    for path in ("/", f"/tickets/{ticket.number}/"):
        phone_page.goto(path)
        phone_page.wait_for_load_state("networkidle")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px screen"
    assert phone_page.get_by_role("button", name="Send reply").is_visible()


def test_reply_controls_stay_inside_the_composer(page, personas: Personas) -> None:
    """A long address made the row of controls wider than the composer; it overflowed to
    the left, over the sidebar, instead of wrapping."""
    customer = make_customer("accounts.payable.department@customer-company.test")
    ticket = make_ticket(personas.mailbox_a, customer)
    sign_in(page, personas.agent_a.email)
    page.goto(f"/tickets/{ticket.number}/")
    composer = page.locator(".composer").bounding_box()
    controls = page.locator(".composer-form:not([hidden]) .composer-actions > *")
    assert controls.count() == 4
    for index in range(controls.count()):
        box = controls.nth(index).bounding_box()
        assert composer["x"] <= box["x"], f"control {index} sticks out on the left"
        assert box["x"] + box["width"] <= composer["x"] + composer["width"]


def test_long_unbroken_names_do_not_widen_the_pages(page, personas: Personas) -> None:
    """A subject that is one long string (a URL, a reference) made the inbox table and the
    ticket page thousands of pixels wide, pushing status and assignee off the screen; a
    long team name ran out of the sidebar over the list."""
    customer = make_customer(name="N" * 120)
    ticket = make_ticket(personas.mailbox_a, customer, subject="x" * 400)
    personas.team_a.name = "T" * 100  # the longest a team name may be
    personas.team_a.save(update_fields=["name"])
    sign_in(page, personas.agent_a.email)
    page.locator("#sidebar .views a", has_text="TTTT").wait_for()
    sidebar = page.evaluate(
        "(el => [el.scrollWidth, el.clientWidth])(document.querySelector('#sidebar'))"
    )
    assert sidebar[0] <= sidebar[1], (
        f"the sidebar's content is {sidebar[0]}px wide in {sidebar[1]}px"
    )
    for path in ("/", f"/tickets/{ticket.number}/", f"/search/?q={'x' * 400}"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} is {width}px wide in a 1280px window"
