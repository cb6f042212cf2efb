"""New tickets opened by agents: on behalf of a customer, and outreach (kind service)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tickets.models import Channel, DeliveryStatus, Direction, Kind, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_a(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent_a)
    return client


def form(personas: Personas, **overrides: str) -> dict[str, str]:
    data = {
        "customer_email": "New.Person@Example.test",
        "customer_name": "New Person",
        "mailbox": str(personas.mailbox_a.pk),
        "channel": "portal",
        "subject": "  Called about   invoices ",
        "body": "She cannot find last month's invoice.",
        "priority": "high",
        "tags": "Billing, phone",
        "assign_to_me": "on",
    }
    data.update(overrides)
    return data


def test_ticket_on_behalf_of_a_customer(agent_a: Client, personas: Personas) -> None:
    response = agent_a.post(reverse("tickets:new"), form(personas))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.number])
    assert ticket.subject == "Called about invoices"
    assert (ticket.kind, ticket.channel, ticket.status) == (
        Kind.SUPPORT,
        Channel.PORTAL,
        Status.NEW,
    )
    assert ticket.customer.email == "new.person@example.test"
    assert ticket.customer.name == "New Person"
    assert ticket.assignee == personas.agent_a and ticket.tags == ["billing", "phone"]
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert ticket.events.get(kind="created").actor == personas.agent_a


def test_outreach_sends_first_message_and_waits(agent_a: Client, personas: Personas) -> None:
    data = form(personas, body="Your renewal is coming up; can we help?")
    del data["channel"]
    response = agent_a.post(reverse("tickets:outreach"), data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.channel, ticket.status) == (
        Kind.SERVICE,
        Channel.OUTBOUND,
        Status.PENDING,
    )
    message = ticket.messages.get()
    assert message.direction == Direction.OUTBOUND and message.author == personas.agent_a
    assert message.delivery_status == DeliveryStatus.QUEUED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_email", "not-an-email"),
        ("customer_email", ""),
        ("customer_email", "B@tandem.test"),  # one of our mailboxes: a mail loop
        ("mailbox", "999999"),
        ("mailbox", "abc"),
        ("channel", "import"),
        ("subject", "   "),
        ("subject", "x" * 1000),
        ("body", "  "),
        ("priority", "extreme"),
        ("tags", ",".join(f"t{i}" for i in range(31))),
    ],
)
def test_validation(agent_a: Client, personas: Personas, field: str, value: str) -> None:
    response = agent_a.post(reverse("tickets:new"), form(personas, **{field: value}))
    assert response.status_code == 422
    assert "field-error" in response.content.decode()
    assert not Ticket.objects.exists()


def test_agent_cannot_open_tickets_in_another_teams_mailbox(
    agent_a: Client, personas: Personas
) -> None:
    response = agent_a.post(
        reverse("tickets:new"), form(personas, mailbox=str(personas.mailbox_b.pk))
    )
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_pages_render_and_methods(agent_a: Client, client: Client, personas: Personas) -> None:
    assert agent_a.get(reverse("tickets:new")).status_code == 200
    assert "Reach out" in agent_a.get(reverse("tickets:outreach")).content.decode()
    assert agent_a.put(reverse("tickets:new")).status_code == 405
    client.force_login(personas.customer.user)
    assert client.post(reverse("tickets:new"), form(personas)).status_code == 404
    assert not Ticket.objects.exists()
