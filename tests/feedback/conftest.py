"""An item asked for through three tickets of two organizations' people (the loop)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from feedback import services
from feedback.models import FeedbackItem
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets.models import Customer, FieldDefinition, Organization, Ticket


@dataclass
class Loop:
    item: FeedbackItem
    acme: Organization
    globex: Organization
    ana: Customer  # Acme, two tickets
    bob: Customer  # Globex, one ticket
    tickets: list[Ticket]


@pytest.fixture
def loop(personas: Personas) -> Loop:
    acme = Organization.objects.create(name="Acme", fields={"plan": "Enterprise"})
    globex = Organization.objects.create(name="Globex", fields={"plan": "Starter"})
    ana = make_customer("ana@acme.test", organization=acme, user=True, name="Ana Acme")
    bob = make_customer("bob@globex.test", organization=globex, user=True, name="Bob Globex")
    tickets = [
        make_ticket(personas.mailbox_a, ana, subject="Export to CSV please"),
        make_ticket(personas.mailbox_a, ana, subject="CSV export again"),
        make_ticket(personas.mailbox_b, bob, subject="Can we get CSV?"),
    ]
    item = services.create_item(personas.agent_a, title="CSV export", kind="feature")
    for ticket in tickets:
        services.link_ticket(item, ticket, personas.manager)
    return Loop(item, acme, globex, ana, bob, tickets)


def ship(item: FeedbackItem, personas: Personas) -> FeedbackItem:
    return services.update_item(item, personas.manager, status="shipped")


def plan_field() -> FieldDefinition:
    """Organizations' plan, the field FEEDBACK_PLAN_FIELD names by default."""
    return FieldDefinition.objects.create(
        key="plan",
        label="Plan",
        type="choice",
        applies_to="organization",
        choices=["Starter", "Enterprise"],
    )
