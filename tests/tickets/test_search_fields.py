"""Search finds a ticket by a custom field's value (issue #17: an order number finds its
ticket), through the viewer's visibility, on the search page and in selectors."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import selectors, services
from tickets.models import AppliesTo, FieldDefinition, FieldType

pytestmark = pytest.mark.django_db


@pytest.fixture
def defined(db: None) -> None:
    for key, kind, choices in (
        ("order_number", FieldType.TEXT, []),
        ("plan", FieldType.CHOICE, ["Free", "Enterprise"]),
        ("seats", FieldType.NUMBER, []),
    ):
        services.save_definition(
            FieldDefinition(
                key=key, label=key.title(), type=kind, applies_to=AppliesTo.TICKET, choices=choices
            )
        )


def test_an_order_number_finds_its_ticket(personas: Personas, defined: None) -> None:
    mine = make_ticket(
        personas.mailbox_a, personas.customer, subject="Refund", fields={"order_number": "A-1001"}
    )
    make_ticket(
        personas.mailbox_a, personas.customer, subject="Other", fields={"order_number": "A-2"}
    )
    theirs = make_ticket(
        personas.mailbox_b, personas.customer, subject="Hidden", fields={"order_number": "A-1001"}
    )
    found = selectors.search_tickets(personas.agent_a, "a-1001")
    assert [hit.ticket.number for hit in found.hits] == [mine.number]
    everyone = selectors.search_tickets(personas.manager, "A-1001")
    assert {hit.ticket.number for hit in everyone.hits} == {mine.number, theirs.number}


def test_choice_and_number_values_are_found(personas: Personas, defined: None) -> None:
    big = make_ticket(
        personas.mailbox_a, personas.customer, fields={"plan": "Enterprise", "seats": 250}
    )
    make_ticket(personas.mailbox_a, personas.customer, fields={"plan": "Free", "seats": 2})
    assert [
        h.ticket.number for h in selectors.search_tickets(personas.agent_a, "enterprise").hits
    ] == [big.number]
    assert [h.ticket.number for h in selectors.search_tickets(personas.agent_a, "250").hits] == [
        big.number
    ]


def test_the_search_page_shows_it(client: Client, personas: Personas, defined: None) -> None:
    ticket = make_ticket(
        personas.mailbox_a, personas.customer, subject="Refund", fields={"order_number": "A-1001"}
    )
    client.force_login(personas.agent_a)
    response = client.get(reverse("tickets:search"), {"q": "A-1001"})
    assert response.status_code == 200
    assert f"/tickets/{ticket.number}/" in response.content.decode()
