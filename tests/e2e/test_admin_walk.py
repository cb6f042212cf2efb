"""Issue #16's walk: a new admin, on a fresh desk, sets up a working help desk in the
browser without ever opening /admin/.

The desk holds only its first admin, as `make run`'s first start leaves it
(demo.seed_demo's admin: role admin, staff and superuser). Every step goes through the
pages: the invitation (read at a real SMTP server, aiosmtpd), the agent's two-factor
set-up (codes computed from the key the page shows, as a phone would), a mailbox tested
against the throwaway Dovecot and that SMTP server, business hours with a holiday, an SLA
policy, and the due time it gives a ticket that was already open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.accounts.conftest import App
from tests.e2e.conftest import sign_in
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    SmtpServer,
    dovecot,
    imap_user,
    smtp_server,
    wait_for,
)
from tickets.mail.dovecot import Dovecot
from tickets.models import Role, Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "admin@desk.test"
PASSWORD = "first-admin-pass"


@pytest.fixture
def mail_at(settings: Any, smtp_server: SmtpServer) -> Iterator[SmtpServer]:  # noqa: F811
    """Django's mailer sends to the test SMTP server, as a real desk's would."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_server.host, "port": smtp_server.port, "timeout": 10},
        }
    }
    yield smtp_server


def invitation_link(server: SmtpServer, to: str) -> str:
    """The link of the invitation mail `to` received, from its text part."""

    def received() -> Any:
        for item in server.recorder.messages:
            if to in item["rcpt_tos"]:
                return message_from_bytes(item["data"], policy=policy.default)
        return None

    mail = wait_for(received, f"the invitation mail to {to}")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/invitation/\S+/", text)
    assert link is not None, text
    return urlsplit(link.group(0)).path


def go_to_settings(page: Any, link: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("main").get_by_role("link", name=link, exact=True).first.click()
    page.wait_for_load_state("networkidle")


def test_a_new_admin_sets_up_a_working_desk(
    browser: Any,
    live_server: Any,
    page: Any,
    eager_tasks: None,
    dovecot: Dovecot,  # noqa: F811
    imap_user: str,  # noqa: F811
    mail_at: SmtpServer,
) -> None:
    User.objects.create_user(
        username=ADMIN,
        email=ADMIN,
        password=PASSWORD,
        first_name="Ada",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
    )
    visited: list[str] = []
    page.on("request", lambda request: visited.append(urlsplit(request.url).path))
    sign_in(page, ADMIN, PASSWORD)
    assert "/login/" not in page.url

    # 1. Invite an agent; the invitation arrives at the SMTP server.
    go_to_settings(page, "Agents")
    page.get_by_label("Email address").fill("nia@staff.test")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_load_state("networkidle")
    assert "Invitation sent to nia@staff.test." in page.locator("body").inner_text()
    link = invitation_link(mail_at, "nia@staff.test")

    # 2. The agent accepts, turns on two-factor sign-in, and signs in with a code.
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(30_000)
    agent = context.new_page()
    agent.on("request", lambda request: visited.append(urlsplit(request.url).path))
    agent.goto(link)
    agent.get_by_label("First name").fill("Nia")
    agent.get_by_label("Last name").fill("Okafor")
    agent.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    agent.get_by_label("Password again").fill("a-long-pass-phrase")
    agent.get_by_role("button", name="Join").click()
    agent.wait_for_load_state("networkidle")
    assert "Welcome to Tandem, Nia." in agent.locator("body").inner_text()
    go_to_settings(agent, "Two-factor sign-in")
    app = App(agent.locator("code[data-secret]").inner_text())
    assert agent.locator("svg").count() >= 1  # the QR code
    agent.get_by_label("Code from the app").fill(app.code())
    agent.get_by_role("button", name="Turn on").click()
    agent.wait_for_load_state("networkidle")
    assert agent.locator("li code").count() == 10  # the recovery codes, shown once
    agent.goto("/")
    agent.get_by_role("button", name="Sign out").click()
    agent.wait_for_load_state("networkidle")
    sign_in(agent, "nia@staff.test", "a-long-pass-phrase")
    assert "Enter your code" in agent.locator("body").inner_text()
    agent.get_by_label("Code", exact=True).fill(app.code(1))  # the next code: each works once
    agent.get_by_role("button", name="Verify").click()
    agent.wait_for_load_state("networkidle")
    assert agent.get_by_role("link", name="Inbox").count() >= 1 and "/login" not in agent.url

    # 3. A mailbox on the test Dovecot and SMTP server; "Test connection" says both work.
    go_to_settings(page, "Mailboxes")
    page.get_by_role("link", name="New mailbox").click()
    page.get_by_label("Name", exact=True).fill("Support")
    page.get_by_label("Address").fill(f"{imap_user}@desk.test")
    page.get_by_label("Default mailbox").check()
    page.get_by_label("IMAP server").fill(dovecot.host)
    page.get_by_label("IMAP port").fill(str(dovecot.port))
    page.get_by_label("IMAP security").select_option("none")
    page.get_by_label("IMAP user name").fill(imap_user)
    page.get_by_label("IMAP password").fill("secret")
    page.get_by_label("SMTP server").fill(mail_at.host)
    page.get_by_label("SMTP port").fill(str(mail_at.port))
    page.get_by_label("SMTP security").select_option("none")
    page.get_by_role("button", name="Save mailbox").click()
    page.wait_for_load_state("networkidle")
    assert "Mailbox “Support” saved." in page.locator("body").inner_text()
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-result")
    result.get_by_text("IMAP: signed in").wait_for()
    assert f"IMAP: signed in to {dovecot.host}:{dovecot.port}" in result.inner_text()
    assert f"SMTP: connected and signed in to {mail_at.host}:{mail_at.port}" in (
        result.inner_text()
    )

    # A customer's request, recorded by the admin: open, and no SLA applies yet.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    page.get_by_label("Customer email").fill("li@customer.test")
    page.get_by_label("Customer name").fill("Li Wei")
    page.get_by_label("Subject").fill("Cannot sign in")
    page.get_by_label("What the customer asked").fill("The app says my password is wrong.")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(subject="Cannot sign in")
    assert ticket.status in ("new", "open")
    ticket_path = urlsplit(page.url).path
    sla_panel = page.locator("#workflow-panel")
    assert "No SLA applies to this ticket." in sla_panel.inner_text()

    # 4. Business hours every day, 09:00 to 17:00 UTC, and the ticket's day a holiday.
    created = ticket.created_at.date()
    go_to_settings(page, "Business hours")
    page.get_by_role("link", name="New calendar").click()
    page.get_by_label("Name", exact=True).fill("Office")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Default calendar").check()
    for row, day in ((6, "sat"), (7, "sun")):  # the new calendar shows Monday to Friday
        page.get_by_label(f"Day (row {row})").select_option(day)
        page.get_by_label(f"Start (row {row})").fill("09:00")
        page.get_by_label(f"End (row {row})").fill("17:00")
    page.get_by_label("Holiday 1").fill(created.isoformat())
    page.get_by_role("button", name="Save calendar").click()
    page.wait_for_load_state("networkidle")
    assert "Calendar “Office” saved." in page.locator("body").inner_text()
    # The preview skips the holiday.
    first_open = page.locator("#preview time").first.get_attribute("datetime")
    assert datetime.fromisoformat(first_open).date() > created

    # 5. An SLA policy for normal tickets: a first response within 2 business hours.
    go_to_settings(page, "SLA policies")
    page.get_by_role("link", name="New policy").click()
    page.get_by_label("Name", exact=True).fill("Normal tickets")
    page.get_by_label("Priority").select_option("normal")
    page.get_by_label("First response within (business hours)").fill("2")
    page.get_by_label("Resolution within (business hours)").fill("16")
    page.get_by_role("button", name="Save policy").click()
    page.wait_for_load_state("networkidle")
    assert "Normal tickets" in page.locator("table").inner_text()

    # 6. The open ticket's page now shows its due time: the day after the holiday, two
    # hours after opening (11:00 UTC).
    page.goto(ticket_path)
    sla_panel = page.locator("#workflow-panel")
    assert "SLA · Normal tickets" in sla_panel.text_content()
    due = sla_panel.locator("li", has_text="First reply").locator("time")
    expected = datetime.combine(created + timedelta(days=1), time(11, 0)).isoformat()
    assert due.get_attribute("datetime").startswith(expected)

    # Never through the Django admin.
    assert visited and not [path for path in visited if path.startswith("/admin")]
    context.close()
