"""REST API of specs/api.md: creating and changing tickets, replies and notes."""

from __future__ import annotations

import pytest

from tests.conftest import Personas
from tests.factories import make_ticket, make_user
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import (
    ActorKind,
    Channel,
    DeliveryStatus,
    EventKind,
    Role,
    Status,
    Ticket,
)
from tickets.services import Actor

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


def test_create_ticket(personas: Personas) -> None:
    client = client_for(personas.agent_a)
    response = client.post(
        TICKETS,
        {
            "subject": "Cannot export",
            "body": "The CSV export times out.",
            "customer": "New.Person@Example.test",
            "customer_name": "New Person",
            "mailbox": "a@tandem.test",
            "priority": "high",
            "tags": ["Export", "csv"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["number"])
    assert (ticket.subject, ticket.priority, ticket.channel) == (
        "Cannot export",
        "high",
        Channel.API,
    )
    assert ticket.tags == ["csv", "export"]
    assert ticket.customer.email == "new.person@example.test"
    assert ticket.customer.name == "New Person"
    assert body["messages"][0]["body"] == "The CSV export times out."
    created = ticket.events.get(kind=EventKind.CREATED)
    assert (created.actor, created.actor_kind) == (personas.agent_a, ActorKind.AGENT)


def test_create_ticket_validation(personas: Personas) -> None:
    client = client_for(personas.agent_a)
    body = assert_error_shape(
        client.post(
            TICKETS,
            {
                "subject": "",
                "customer": "nope",
                "mailbox": "b@tandem.test",  # team B's mailbox: not agent A's
                "priority": "whenever",
                "tags": ["x" * 51],
                "colour": "red",
            },
            format="json",
        ),
        400,
    )
    assert set(body["errors"]) >= {"subject", "body", "customer", "mailbox", "priority", "tags"}
    assert Ticket.objects.count() == 0
    body = assert_error_shape(
        client.post(
            TICKETS,
            {
                "subject": "s",
                "body": "b",
                "customer": "a@b.test",
                "mailbox": "a@tandem.test",
                "colour": 1,
            },
            format="json",
        ),
        400,
    )
    assert body["errors"] == {"colour": ["Unknown field."]}
    # Longer than the column holds (Django's validator alone allows 320 characters).
    long_address = "x" * 250 + "@b.test"
    body = assert_error_shape(
        client.post(
            TICKETS,
            {"subject": "s", "body": "b", "customer": long_address, "mailbox": "a@tandem.test"},
            format="json",
        ),
        400,
    )
    assert body["errors"] == {"customer": ["Ensure this field has no more than 254 characters."]}
    body = assert_error_shape(
        client.post(
            TICKETS,
            {"subject": "s", "body": "b", "customer": "A@tandem.test", "mailbox": "a@tandem.test"},
            format="json",
        ),
        400,
    )
    assert body["errors"] == {"customer": ["That is one of our own mailboxes, not a customer."]}
    assert Ticket.objects.count() == 0


def test_customers_cannot_create_or_change_tickets(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.customer.user)
    assert_error_shape(
        client.post(
            TICKETS,
            {
                "subject": "s",
                "body": "b",
                "customer": "li@customer.test",
                "mailbox": "a@tandem.test",
            },
            format="json",
        ),
        403,
    )
    assert_error_shape(client.patch(f"{TICKETS}{ticket.number}/", {"status": "solved"}), 403)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_patch_goes_through_update_ticket(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    colleague = make_user(Role.AGENT, teams=[personas.team_a], email="colleague@staff.test")
    client = client_for(personas.agent_a)
    response = client.patch(
        f"{TICKETS}{ticket.number}/",
        {
            "status": "pending",
            "assignee": colleague.email,
            "team": "Team A",
            "tags": ["VIP"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == colleague.email
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.team, ticket.tags) == (
        Status.PENDING,
        colleague,
        personas.team_a,
        ["vip"],
    )
    events = {e.kind: e for e in ticket.events.exclude(kind__in=["created", "message"])}
    assert set(events) == {"status", "assignee", "team", "tags"}
    assert (events["assignee"].before, events["assignee"].after) == (None, colleague.email)
    assert all(e.actor == personas.agent_a for e in events.values())

    response = client.patch(f"{TICKETS}{ticket.number}/", {"assignee": None}, format="json")
    assert response.json()["assignee"] is None


def test_patch_validation_and_conflicts(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    url = f"{TICKETS}{ticket.number}/"
    body = assert_error_shape(
        client.patch(
            url, {"status": "done", "assignee": "li@customer.test", "team": "Nope"}, format="json"
        ),
        400,
    )
    assert set(body["errors"]) == {"status", "assignee", "team"}
    # Agent B works in mailbox B only: as on the ticket page, they cannot be handed this
    # ticket (they could not open it); a manager can.
    body = assert_error_shape(
        client.patch(url, {"assignee": personas.agent_b.email}, format="json"), 400
    )
    assert body["errors"] == {
        "assignee": ["agent.b@staff.test does not work in this ticket's mailbox (a@tandem.test)."]
    }
    ticket.refresh_from_db()
    assert ticket.assignee is None
    response = client.patch(url, {"assignee": personas.manager.email}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] == personas.manager.email
    assert_error_shape(client.patch(url, {}, format="json"), 400)
    assert_error_shape(client.patch(url, {"subject": "new"}, format="json"), 400)
    assert client.patch(url, {"status": "closed"}, format="json").status_code == 200
    body = assert_error_shape(client.patch(url, {"status": "open"}, format="json"), 409)
    assert "closed" in body["detail"]
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_post_reply_and_note(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    url = f"{TICKETS}{ticket.number}/messages/"
    reply = client.post(url, {"body": "Fixed now", "kind": "reply"}, format="json")
    assert reply.status_code == 201, reply.content
    assert reply.json()["direction"] == "outbound"
    assert reply.json()["delivery_status"] == DeliveryStatus.QUEUED
    note = client.post(url, {"body": "watch this one", "kind": "note"}, format="json")
    assert note.json()["direction"] == "note"
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_response_at is not None
    assert ticket.message_count == 3
    body = assert_error_shape(client.post(url, {"body": "", "kind": "shout"}, format="json"), 400)
    assert set(body["errors"]) == {"body", "kind"}


def test_customer_reply_on_own_ticket_wakes_it(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.PENDING)
    client = client_for(personas.customer.user)
    url = f"{TICKETS}{ticket.number}/messages/"
    response = client.post(url, {"body": "Here are the logs"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "inbound"
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    event = ticket.events.filter(kind=EventKind.MESSAGE).last()
    assert (event.actor, event.actor_kind) == (personas.customer.user, ActorKind.CUSTOMER)
    body = assert_error_shape(
        client.post(url, {"body": "psst", "kind": "note"}, format="json"), 400
    )
    assert body["errors"]["kind"]
    # On a closed ticket the reply opens a follow-up, as by mail and in the portal (the
    # contract names no error for it): 201, the message on the new ticket.
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.CLOSED)
    response = client.post(url, {"body": "again"}, format="json")
    assert response.status_code == 201, response.content
    follow_up = Ticket.objects.get(linked_from=ticket)
    assert response.json()["ticket"] == follow_up.number
    assert response["Location"] == f"{TICKETS}{follow_up.number}/"
