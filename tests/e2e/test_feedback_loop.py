"""The feedback loop end to end in a real Chromium: an agent links three tickets of two
organizations' people to a feature request (creating it inline from the first ticket's
page), a manager marks it shipped and sends the note everyone who asked gets, the notes
go out as outreach tickets through the send queue to a real SMTP server (aiosmtpd), and
both customers see the item shipped in their portal."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from feedback.models import FeedbackItem, Notice
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tests.integration.conftest import SmtpServer, smtp_server  # noqa: F401 (a fixture)
from tickets.models import DeliveryStatus, Kind, MailSecurity, Message, Organization, Ticket, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _eager_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpdesk.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _browser_as(browser: Any, live_server: Any, user: User) -> Any:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context


def test_link_ship_tell_and_see_it_in_both_portals(
    browser: Any,
    live_server: Any,
    personas: Personas,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    box = personas.mailbox_a
    box.smtp_host, box.smtp_port, box.smtp_security = (
        smtp_server.host,
        smtp_server.port,
        MailSecurity.NONE,
    )
    box.save()
    acme = Organization.objects.create(name="Acme")
    globex = Organization.objects.create(name="Globex")
    ana = make_customer("ana@acme.test", organization=acme, user=True, name="Ana Lind")
    bob = make_customer("bob@globex.test", organization=globex, user=True, name="Bob Stone")
    tickets = [
        make_ticket(box, ana, subject="Can I export to CSV?"),
        make_ticket(box, ana, subject="CSV export for the finance team"),
        make_ticket(box, bob, subject="Spreadsheet export"),
    ]

    # An agent links the three tickets: the first creates the item inline.
    agent = _browser_as(browser, live_server, personas.agent_a).new_page()
    agent.goto(f"/tickets/{tickets[0].pk}/")
    panel = agent.locator("#feedback-panel")
    panel.get_by_label("Create an item").fill("CSV export")
    panel.get_by_role("button", name="Link").click()
    panel.get_by_role("link", name="CSV export").wait_for()
    for ticket in tickets[1:]:
        agent.goto(f"/tickets/{ticket.pk}/")
        panel = agent.locator("#feedback-panel")
        panel.get_by_label("Link to an item").select_option(label="CSV export (under review)")
        panel.get_by_role("button", name="Link").click()
        panel.get_by_role("link", name="CSV export").wait_for()
    item = FeedbackItem.objects.get(title="CSV export")

    # The item page lists both organizations' people, three tickets.
    agent.goto(f"/feedback/{item.pk}/")
    assert agent.locator("#asker-count").inner_text() == "2"
    askers = agent.locator("#askers")
    assert askers.get_by_role("link", name="Ana Lind").is_visible()
    assert askers.get_by_role("link", name="Bob Stone").is_visible()
    orgs = agent.locator("#asker-organizations")
    assert orgs.get_by_role("link", name="Acme").is_visible()
    assert orgs.get_by_role("link", name="Globex").is_visible()
    agent.context.close()

    # A manager marks it shipped and lands on the note, the canned text to edit.
    manager = _browser_as(browser, live_server, personas.manager).new_page()
    manager.goto(f"/feedback/{item.pk}/")
    manager.get_by_role("combobox", name="Status").select_option(label="Shipped")
    manager.get_by_role("button", name="Save status").click()
    manager.get_by_role("heading", name="Tell everyone who asked").wait_for()
    note = manager.get_by_label("Note")
    assert "You asked us for “CSV export”" in note.input_value()
    note.fill("Hi {{customer.first_name}}, CSV export is live: Reports, Export. Thank you!")
    manager.get_by_role("button", name="Send 2 notes").click()
    manager.get_by_text("Told 2 customers.").wait_for()
    assert manager.locator("#told-count").inner_text() == "2"

    # Sending again tells nobody twice.
    manager.goto(f"/feedback/{item.pk}/notes/")
    manager.get_by_role("heading", name="Everyone who asked has been told").wait_for()
    manager.context.close()

    # The notes went out: one outreach service ticket each, sent through the send queue
    # to the SMTP server.
    outreach = Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=["feedback"])
    assert sorted(t.customer.email for t in outreach) == ["ana@acme.test", "bob@globex.test"]
    sent = Message.objects.filter(ticket__in=outreach)
    assert {m.delivery_status for m in sent} == {DeliveryStatus.SENT}
    assert Notice.objects.filter(item=item).count() == 2
    delivered = {
        tuple(m["rcpt_tos"]): message_from_bytes(m["data"], policy=policy.default)
        for m in smtp_server.recorder.messages
    }
    assert sorted(delivered) == [("ana@acme.test",), ("bob@globex.test",)]
    body = delivered[("ana@acme.test",)].get_body(("plain",)).get_content()
    assert "Hi Ana, CSV export is live" in body

    # Both customers see it shipped in their portal.
    for customer in (ana, bob):
        portal = _browser_as(browser, live_server, customer.user).new_page()
        portal.goto("/portal/feedback/")
        row = portal.locator("#my-feedback li", has_text="CSV export")
        assert row.locator(".status").inner_text() == "Shipped"
        portal.context.close()
