"""An admin invites an agent from the settings area; the agent accepts and signs in."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail

from tests.conftest import Personas
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_invite_accept_and_sign_in(
    page: Any, browser: Any, live_server: Any, personas: Personas, eager_tasks: None
) -> None:
    sign_in(page, personas.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Agents").first.click()
    page.get_by_label("Email address").fill("nia@staff.test")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Role").select_option("agent")
    page.get_by_label("Team A").check()
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state("networkidle")
    assert "Invitation sent to nia@staff.test." in page.locator("body").inner_text()
    assert "Invited" in page.locator("#agents").inner_text()

    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[-1].body)
    assert link is not None
    invited = browser.new_context(base_url=live_server.url)
    newcomer = invited.new_page()
    newcomer.goto(urlsplit(link.group(0)).path)
    newcomer.get_by_label("First name").fill("Nia")
    newcomer.get_by_label("Last name").fill("Okafor")
    newcomer.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    newcomer.get_by_label("Password again").fill("a-long-pass-phrase")
    newcomer.get_by_role("button", name="Join").click()
    newcomer.wait_for_load_state("networkidle")
    assert "Welcome to Tandem, Nia." in newcomer.locator("body").inner_text()
    newcomer.get_by_role("button", name="Sign out").click()
    newcomer.wait_for_load_state("networkidle")
    sign_in(newcomer, "nia@staff.test", "a-long-pass-phrase")
    assert newcomer.get_by_role("link", name="Inbox").count() >= 1
    assert "/login/" not in newcomer.url
    invited.close()
