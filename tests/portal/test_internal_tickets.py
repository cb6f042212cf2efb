"""Internal data never reaches customers (issue #14, finding 3).

- A success follow-up ("Check in with …: 4 support tickets in 30 days") is internal: the
  customer and their colleagues (organization sharing) see it nowhere (portal list and
  page, API list, detail and conversation, the CSAT survey of a solved ticket) until an
  agent writes to the customer on it (Ticket.objects.shown_to_customers).
- Over the API, a customer gets a customer-facing shape: no assignee, team, tags, kind,
  priority, internal notes or agents' addresses.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from metrics import surveys
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import Direction, Organization, Status, Ticket
from tickets.services import Actor
from tickets.workflow import follow_ups

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


def _portal(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def follow_up(personas: Personas) -> Ticket:
    """Li, whose organization shares tickets with Kim, opened three support tickets: the
    rule opened a follow-up for the success contact (agent A)."""
    p = personas
    organization = Organization.objects.create(
        name="Acme", shares_tickets=True, success_contact=p.agent_a
    )
    p.customer.organization = organization
    p.customer.save(update_fields=["organization"])
    make_customer("kim@customer.test", organization=organization, user=True, name="Kim")
    tickets = [make_ticket(p.mailbox_a, p.customer, subject=f"Broken {n}") for n in range(3)]
    opened = follow_ups.open_success_follow_up(tickets[-1], actor=Actor.rule(1, "Three"))
    assert opened is not None and opened.subject.startswith("Check in with Li Wei")
    return opened


def _sees(user: Any, ticket: Ticket) -> dict[str, Any]:
    """Where `user` (a customer) meets the ticket: portal list and page, API list, detail
    and conversation."""
    portal = _portal(user)
    api = client_for(user)
    listed = portal.get(reverse("portal:requests")).content.decode()
    return {
        "portal list": ticket.subject in listed,
        "portal page": portal.get(reverse("portal:request", args=[ticket.pk])).status_code,
        "API list": ticket.pk in {row["number"] for row in api.get(TICKETS).json()["results"]},
        "API detail": api.get(f"{TICKETS}{ticket.pk}/").status_code,
        "API messages": api.get(f"{TICKETS}{ticket.pk}/messages/").status_code,
    }


HIDDEN = {
    "portal list": False,
    "portal page": 404,
    "API list": False,
    "API detail": 404,
    "API messages": 404,
}
SHOWN = {
    "portal list": True,
    "portal page": 200,
    "API list": True,
    "API detail": 200,
    "API messages": 200,
}


def test_a_follow_up_is_internal_until_an_agent_writes_to_the_customer(
    personas: Personas, follow_up: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    p = personas
    kim = Ticket.objects.get(pk=follow_up.pk).customer.organization.customers.get(
        email="kim@customer.test"
    )
    # The tickets Li opened stay visible, to Li and to Kim.
    opened = Ticket.objects.get(pk=follow_up.linked_from_id)
    assert _sees(p.customer.user, opened) == SHOWN
    assert _sees(kim.user, opened) == SHOWN

    for customer in (p.customer, kim):
        assert _sees(customer.user, follow_up) == HIDDEN

    # Solving it mails the customer no survey about it.
    services.update_ticket(follow_up, actor=Actor.agent(p.agent_a), status=Status.SOLVED)
    assert surveys.offer_csat(follow_up.pk) is False
    assert not follow_up.messages.exclude(direction=Direction.NOTE).exists()

    # The agent writes to the customer on it: from then on it is theirs, without the note.
    services.reply(follow_up, p.agent_a, "Hi Li, how is everything going?")
    for customer in (p.customer, kim):
        assert _sees(customer.user, follow_up) == SHOWN
    page = _portal(p.customer.user).get(reverse("portal:request", args=[follow_up.pk]))
    assert "how is everything going" in page.content.decode()
    assert "Check in with them" not in page.content.decode()
    detail = client_for(p.customer.user).get(f"{TICKETS}{follow_up.pk}/").json()
    assert [m["direction"] for m in detail["messages"]] == ["outbound"]


CUSTOMER_TICKET = {
    "number",
    "subject",
    "status",
    "channel",
    "mailbox",
    "customer",
    "created_at",
    "updated_at",
    "last_message_at",
    "solved_at",
}
CUSTOMER_MESSAGE = {
    "id",
    "ticket",
    "direction",
    "from_name",
    "subject",
    "body",
    "body_html",
    "created_at",
}


def test_customers_get_a_customer_facing_shape_over_the_api(personas: Personas) -> None:
    p = personas
    ticket = make_ticket(p.mailbox_a, p.customer, subject="Printer", tags=["vip", "churn-risk"])
    services.update_ticket(ticket, actor=Actor.agent(p.agent_a), assignee=p.agent_a, team=p.team_a)
    services.add_note(ticket, p.agent_a, "Internal: they are about to leave us")
    services.reply(ticket, p.agent_a, "We are on it")
    customer = client_for(p.customer.user)

    listed = customer.get(TICKETS)
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert set(row) == CUSTOMER_TICKET
    detail = customer.get(f"{TICKETS}{ticket.pk}/").json()
    assert set(detail) == {*CUSTOMER_TICKET, "messages"}
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]
    assert all(set(m) == CUSTOMER_MESSAGE for m in detail["messages"])
    conversation = customer.get(f"{TICKETS}{ticket.pk}/messages/").json()["results"]
    assert [set(m) for m in conversation] == [CUSTOMER_MESSAGE, CUSTOMER_MESSAGE]
    written = customer.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "Thanks"}, format="json")
    assert written.status_code == 201 and set(written.json()) == CUSTOMER_MESSAGE
    text = str([listed.json(), detail, conversation, written.json()])
    for internal in ("vip", "churn-risk", "agent.a@staff.test", "Team A", "about to leave"):
        assert internal not in text

    # Filters on internal fields would tell them apart: agents only.
    for query in ("tag=vip", "assignee=agent.a@staff.test", "team=Team A", "kind=support"):
        refused = customer.get(f"{TICKETS}?{query}")
        assert query.split("=")[0] in assert_error_shape(refused, 400)["errors"]
    assert customer.get(f"{TICKETS}?status=open,new").status_code == 200

    # Agents keep the full shape.
    agent = client_for(p.agent_a).get(f"{TICKETS}{ticket.pk}/").json()
    assert agent["tags"] == ["churn-risk", "vip"] and agent["assignee"] == "agent.a@staff.test"
    assert agent["team"] == "Team A" and "note" in [m["direction"] for m in agent["messages"]]
