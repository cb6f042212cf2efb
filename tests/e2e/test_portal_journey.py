"""The customer journey in a real Chromium, on a desktop and on a phone.

Help center, search, article, sign-in by the link read from the outgoing mail (Django's
locmem outbox: the live server runs in this process, and the sign-in task runs eagerly),
a request with an attachment, "My requests", a reply; then an agent answers using the
reply box's article search, and the customer sees the answer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_article, make_section
from tickets.models import Direction, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("TANDEM_SCREENSHOTS", "var/screenshots"))


@pytest.fixture(autouse=True)
def _eager_tasks(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    from helpdesk.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


@pytest.fixture
def help_center(personas: Personas) -> None:
    account = make_section("Account", "Signing in")
    make_article(
        "Reset your password",
        "Press **Forgot password** on the sign-in page.\n\n1. Check your mail\n2. Open the link",
        section=account,
    )
    make_article("Turn on two-factor sign-in", "Scan the QR code.", section=account)
    make_article("Download past invoices", "Open billing.", section=make_section("Billing", "All"))


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _customer_journey(page: Any, personas: Personas, tag: str) -> Ticket:
    # The help center works without signing in.
    page.goto("/help/")
    assert page.get_by_role("heading", name="How can we help?").is_visible()
    _shot(page, f"{tag}-help-home")
    page.get_by_label("Search the help center").fill("pasword")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Reset your password").first.click()
    assert page.get_by_role("heading", name="Reset your password").is_visible()
    page.get_by_role("button", name="Yes").click()
    page.get_by_text("Thanks for your feedback!").wait_for()
    _shot(page, f"{tag}-article")

    # Sign in by the one-time link from the e-mail.
    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Email address").first.fill(personas.customer.email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert len(mail.outbox) == 1
    link = re.search(r"/portal/sign-in/link/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    _shot(page, f"{tag}-sign-in-link")
    page.get_by_role("button", name="Sign in").click()

    # The request form suggests articles while typing; the request is filed with a file.
    page.wait_for_url("**/portal/requests/new/")
    page.get_by_label("Subject").fill("Password reset mail never arrives")
    page.locator("#suggestions").get_by_role(
        "link", name=re.compile("Reset your password")
    ).wait_for()
    page.get_by_label("Description").fill("I pressed Forgot password twice, no mail.")
    attachment = Path(SHOTS / f"{tag}-screenshot.txt")
    attachment.write_text("error log")
    page.get_by_label("Attachments").set_input_files(str(attachment))
    _shot(page, f"{tag}-new-request")
    page.get_by_role("button", name="Send request").click()
    page.get_by_text("is with our team").wait_for()
    ticket = Ticket.objects.get(subject="Password reset mail never arrives")
    assert ticket.messages.get().attachments.get().filename == f"{tag}-screenshot.txt"

    # "My requests" lists it; the customer replies on the ticket page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    page.get_by_role("link", name=re.compile("Password reset mail never arrives")).wait_for()
    _shot(page, f"{tag}-my-requests")
    page.get_by_role("link", name=re.compile("Password reset mail never arrives")).click()
    page.get_by_label("Your reply").fill("Also tried another browser.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Your reply was added").wait_for()
    assert page.get_by_text("Also tried another browser.").is_visible()
    return ticket


def _agent_answers(browser: Any, live_server: Any, personas: Personas, ticket: Ticket) -> None:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    agent = context.new_page()
    sign_in(agent, personas.agent_a.email)
    agent.goto(f"/tickets/{ticket.pk}/")
    agent.get_by_text("Insert from the knowledge base").click()
    agent.get_by_placeholder("Search articles…").fill("password")
    agent.get_by_role("button", name="Insert link").first.click()
    reply_box = agent.locator("#reply-body")
    assert "Reset your password: http" in reply_box.input_value()
    reply_box.press("End")
    reply_box.type("\nThis should help!")
    _shot(agent, "agent-reply-box")
    with agent.expect_response(lambda response: response.url.endswith("/reply/")):
        agent.locator("form[data-pane=reply]").get_by_role("button", name="Send reply").click()
    context.close()
    answer = ticket.messages.filter(direction=Direction.OUTBOUND).get()
    assert "/help/articles/" in answer.body_text


def _customer_sees_answer(page: Any, ticket: Ticket, tag: str) -> None:
    page.goto(f"/portal/requests/{ticket.pk}/")
    assert page.get_by_text("This should help!").is_visible()
    _shot(page, f"{tag}-ticket")


def test_customer_journey_on_desktop(
    page: Any, browser: Any, live_server: Any, personas: Personas, help_center: None
) -> None:
    ticket = _customer_journey(page, personas, "desktop")
    _agent_answers(browser, live_server, personas, ticket)
    _customer_sees_answer(page, ticket, "desktop")


def test_customer_journey_on_a_phone(
    phone_page: Any, browser: Any, live_server: Any, personas: Personas, help_center: None
) -> None:
    ticket = _customer_journey(phone_page, personas, "phone")
    _agent_answers(browser, live_server, personas, ticket)
    _customer_sees_answer(phone_page, ticket, "phone")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_agent_knowledge_base_pages(page: Any, personas: Personas, help_center: None) -> None:
    sign_in(page, personas.agent_a.email)
    page.get_by_role("link", name="Knowledge base").first.click()
    page.get_by_role("heading", name="Knowledge base").wait_for()
    _shot(page, "agent-kb-list")
    page.get_by_role("link", name="Reset your password").click()
    page.get_by_label("Title").fill("Reset your password quickly")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved “Reset your password quickly”").wait_for()
    _shot(page, "agent-kb-edit")
    page.get_by_role("link", name="Gaps & feedback").click()
    page.get_by_role("heading", name="Knowledge gaps").wait_for()
    _shot(page, "agent-kb-gaps")
