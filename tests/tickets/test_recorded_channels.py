"""Channels an agent records a ticket through: phone, chat, walk-in (issue 17, item 6)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.api_client import client_for
from tests.tickets.test_views_inbox import INBOX, agent_a, numbers
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db
__all__ = ["agent_a"]  # the fixture, shared with the inbox tests


@pytest.mark.parametrize(
    ("channel", "label"), [("phone", "Phone"), ("chat", "Chat"), ("walk_in", "Walk-in")]
)
def test_new_ticket_on_behalf_records_the_channel_with_its_icon(
    agent_a: Client, personas: Personas, channel: str, label: str
) -> None:
    page = agent_a.get(reverse("tickets:new")).content.decode()
    assert f'<option value="{channel}"' in page
    response = agent_a.post(
        reverse("tickets:new"),
        {
            "customer_email": "caller@example.test",
            "mailbox": str(personas.mailbox_a.pk),
            "channel": channel,
            "subject": "Called about an invoice",
            "body": "She cannot find last month's invoice.",
            "priority": "normal",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == channel
    icon = f'role="img" aria-label="{label}"'
    detail = agent_a.get(response["Location"]).content.decode()
    assert icon in detail and f"channel-{channel}" in detail
    inbox = agent_a.get(INBOX).content.decode()
    assert icon in inbox
    # The API reads the recorded channel back as it is stored.
    api = client_for(personas.agent_a).get(f"/api/v1/tickets/{ticket.number}/")
    assert api.status_code == 200 and api.json()["channel"] == channel


def test_each_recorded_channel_has_its_own_icon() -> None:
    from tickets.channels import ICONS

    shown = {ICONS[c] for c in (Channel.PHONE, Channel.CHAT, Channel.WALK_IN)}
    assert len(shown) == 3
    assert all("<svg" in icon and "http" not in icon.replace("http://www.w3", "") for icon in shown)


def test_inbox_filters_by_channel(agent_a: Client, personas: Personas) -> None:
    phone = make_ticket(personas.mailbox_a, personas.customer, channel=Channel.PHONE)
    make_ticket(personas.mailbox_a, personas.customer, channel=Channel.CHAT)
    make_ticket(personas.mailbox_a, personas.customer)
    page = agent_a.get(INBOX, {"channel": "phone"})
    assert numbers(page) == [phone.number]
    assert '<option value="walk_in" ' in page.content.decode()
    # A channel that does not exist is dropped, never a 500.
    assert len(numbers(agent_a.get(INBOX, {"channel": "fax"}))) == 3
