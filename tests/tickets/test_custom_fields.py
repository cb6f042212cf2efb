"""Custom fields (specs/api.md, "Custom fields"): one check of values and one rule
"required to solve", through every door that reaches them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import AppliesTo, EventKind, FieldDefinition, FieldType, Status, Ticket
from tickets.services import Actor, FieldErrors

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_fields(db: None) -> dict[str, FieldDefinition]:
    specs = [
        ("order_number", FieldType.TEXT, [], False),
        ("plan", FieldType.CHOICE, ["free", "pro", "enterprise"], True),
        ("due", FieldType.DATE, [], False),
        ("seats", FieldType.NUMBER, [], False),
        ("areas", FieldType.MULTICHOICE, ["billing", "api", "ui"], False),
        ("vip", FieldType.CHECKBOX, [], False),
    ]
    return {
        key: FieldDefinition.objects.create(
            key=key,
            label=key.replace("_", " ").capitalize(),
            type=kind,
            applies_to=AppliesTo.TICKET,
            choices=choices,
            required_to_solve=required,
            position=i,
        )
        for i, (key, kind, choices, required) in enumerate(specs)
    }


def open_ticket(personas: Personas) -> Ticket:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, status=Status.OPEN)
    return ticket


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return open_ticket(personas)


# -- the service ------------------------------------------------------------------------


def test_values_are_coerced_and_merged(ticket_fields, ticket: Ticket, personas) -> None:
    services.update_ticket(
        ticket,
        actor=Actor.agent(personas.agent_a),
        fields={"order_number": " A-1001 ", "seats": "12", "areas": ["api", "billing"]},
    )
    services.update_ticket(
        ticket,
        actor=Actor.agent(personas.agent_a),
        fields={"due": "2026-12-24", "vip": True, "seats": None},
    )
    ticket.refresh_from_db()
    assert ticket.fields == {
        "order_number": "A-1001",
        "areas": ["billing", "api"],
        "due": "2026-12-24",
        "vip": True,
    }
    event = ticket.events.filter(kind=EventKind.FIELDS).last()
    assert event.before == {"due": None, "seats": 12, "vip": None}
    assert event.after == {"due": "2026-12-24", "seats": None, "vip": True}


def test_wrong_values_name_each_key_and_change_nothing(ticket_fields, ticket, personas) -> None:
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(
            ticket,
            actor=Actor.agent(personas.agent_a),
            fields={
                "order_number": "ok",
                "plan": "gold",
                "due": "24/12/2026",
                "seats": "many",
                "areas": ["api", "mobile"],
                "vip": "perhaps",
                "nope": 1,
            },
        )
    assert set(refused.value.errors) == {"plan", "due", "seats", "areas", "vip", "nope"}
    ticket.refresh_from_db()
    assert ticket.fields == {}


def test_inactive_field_is_unknown(ticket_fields, ticket, personas) -> None:
    FieldDefinition.objects.filter(key="order_number").update(active=False)
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(
            ticket, actor=Actor.agent(personas.agent_a), fields={"order_number": "x"}
        )
    assert list(refused.value.errors) == ["order_number"]


def test_solving_needs_required_fields(ticket_fields, ticket, personas) -> None:
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED)
    assert refused.value.errors == {"plan": "Plan is required to solve the ticket."}
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    # Filled in the same change, it solves.
    services.update_ticket(
        ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED, fields={"plan": "pro"}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_customer_solving_their_own_ticket_is_not_held(ticket_fields, ticket, personas) -> None:
    from tickets.models import ActorKind

    services.update_ticket(
        ticket, actor=Actor(ActorKind.CUSTOMER, personas.customer.user), status=Status.SOLVED
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_bulk_solve_skips_tickets_missing_required(ticket_fields, personas) -> None:
    done = open_ticket(personas)
    services.update_ticket(done, actor=Actor.agent(personas.agent_a), fields={"plan": "free"})
    held = open_ticket(personas)
    result = services.bulk_update(
        Ticket.objects.filter(pk__in=[done.pk, held.pk]),
        actor=Actor.agent(personas.agent_a),
        status=Status.SOLVED,
    )
    assert result.changed == 1
    assert result.refused == {"fields": 1}
    held.refresh_from_db()
    assert held.status == Status.OPEN


def test_bulk_solve_page_says_why_tickets_were_left(ticket_fields, client, personas) -> None:
    held = open_ticket(personas)
    client.force_login(personas.agent_a)
    response = client.post(
        reverse("tickets:bulk"),
        {"tickets": [held.pk], "action": "status", "status": "solved"},
        follow=True,
    )
    assert "1 ticket with a field required to solve still empty" in response.content.decode()
    held.refresh_from_db()
    assert held.status == Status.OPEN
