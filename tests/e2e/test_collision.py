"""Collision detection with two agents in two browser contexts on the same ticket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket
from tickets.models import Direction

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_agents_see_each_other_and_a_late_reply_is_held(
    page: Any, browser: Any, live_server: Any, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Invoice is wrong")
    other_context = browser.new_context(base_url=live_server.url)
    other_context.set_default_timeout(20_000)
    other = other_context.new_page()
    try:
        sign_in(page, personas.agent_a.email)
        sign_in(other, personas.manager.email)
        page.goto(f"/tickets/{ticket.number}/")
        other.goto(f"/tickets/{ticket.number}/")

        # Presence: each sees the other, live, through the htmx poll.
        page.locator("#presence", has_text="is viewing").wait_for(timeout=20_000)
        other.locator("#presence", has_text="Ana").wait_for(timeout=20_000)

        # Typing shows up on the other agent's page.
        other.locator("#reply-body").fill("Sorry about that, fixing it now.")
        page.locator("#presence", has_text="is typing a reply").wait_for(timeout=20_000)

        # Ana starts her own reply, then the manager sends first.
        page.locator("#reply-body").fill("Let me check the invoice.")
        other.get_by_role("button", name="Send reply").click()
        other.locator(".msg-outbound", has_text="fixing it now").wait_for()
        page.locator("#presence [data-newer-messages]").wait_for(timeout=20_000)

        # Ana's send is held with a warning, her text kept and the new reply shown.
        page.get_by_role("button", name="Send reply").click()
        page.locator("#reply-collision", has_text="while you were writing").wait_for()
        assert page.locator(".msg-outbound", has_text="fixing it now").count() == 1
        assert page.locator("#reply-body").input_value() == "Let me check the invoice."
        assert not ticket.messages.filter(body_text="Let me check the invoice.").exists()

        # Having seen it, sending again goes through.
        page.get_by_role("button", name="Send reply").click()
        page.locator(".msg-outbound", has_text="Let me check the invoice.").wait_for()
        outbound = ticket.messages.filter(direction=Direction.OUTBOUND)
        assert sorted(outbound.values_list("author__email", flat=True)) == [
            "agent.a@staff.test",
            "manager@staff.test",
        ]
    finally:
        other_context.close()
