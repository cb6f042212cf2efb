"""The assist panel in Chromium: it arrives after the ticket page, offers the earlier
solved reply to a repeated question, and one click puts it in the reply box for editing."""

from __future__ import annotations

import pytest

from assist.models import Use
from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_customer
from tickets import services
from tickets.models import Status
from tickets.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "Go to Settings, then Security, and press Reset password."


def test_one_click_inserts_the_solved_reply_into_the_composer(page, personas: Personas) -> None:
    agent, mailbox = personas.agent_a, personas.mailbox_a
    solved = services.create_ticket(
        mailbox=mailbox,
        customer=make_customer(),
        subject="How do I reset my password?",
        body_text="I forgot my password and cannot sign in. How do I reset my password?",
    )
    services.reply(solved, agent, REPLY)
    services.update_ticket(solved, actor=Actor.agent(agent), status=Status.SOLVED)
    ticket = services.create_ticket(
        mailbox=mailbox,
        customer=make_customer(),
        subject="Password reset",
        body_text="I forgot my password. How can I reset it?",
    )
    sign_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    panel = page.locator("#assist")
    panel.get_by_text(f"#{solved.pk}").wait_for()
    page.locator("#reply-body").fill("Hi,")
    panel.get_by_role("button", name="Insert reply").first.click()
    page.wait_for_function(
        "document.querySelector('#reply-body').value.includes('press Reset password')"
    )
    assert page.locator("#reply-body").input_value() == f"Hi,\n\n{REPLY}"
    for _ in range(50):
        if Use.objects.filter(kind="solved_reply", source_id=solved.pk).exists():
            break
        page.wait_for_timeout(100)
    assert Use.objects.filter(kind="solved_reply", source_id=solved.pk).count() == 1
