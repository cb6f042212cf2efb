"""Light agents (issue 16): they read the tickets of their teams' mailboxes and write
internal notes; a reply, a field change, a new ticket, a merge or a split is refused by
the one rule (services.check_actor) through every door, and no one assigns them a ticket."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_ticket, make_user
from tests.tickets.api_client import client_for as api_client_for
from tickets import services
from tickets.models import Direction, Role, Status, Ticket, User
from tickets.services import Actor
from tickets.workflow import collab
from tickets.workflow.models import CannedReply

pytestmark = pytest.mark.django_db

REFUSAL = "Light agents write internal notes"


@pytest.fixture
def light(personas: Personas) -> User:
    return make_user(Role.LIGHT_AGENT, teams=[personas.team_a], email="light@staff.test")


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(personas.mailbox_a, personas.customer)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _snapshot(ticket: Ticket) -> tuple[Any, ...]:
    ticket.refresh_from_db()
    outbound = ticket.messages.filter(direction=Direction.OUTBOUND).count()
    return (ticket.status, ticket.priority, ticket.assignee_id, ticket.tags, outbound)


# --- the rule, in the core ---------------------------------------------------------------


def test_the_core_refuses_a_light_agents_reply_and_changes(light: User, ticket: Ticket) -> None:
    before = _snapshot(ticket)
    with pytest.raises(services.NotPermitted, match=REFUSAL):
        services.reply(ticket, light, "Hello from a light agent")
    with pytest.raises(services.NotPermitted, match=REFUSAL):
        services.update_ticket(ticket, actor=Actor.agent(light), priority="high")
    with pytest.raises(services.NotPermitted, match=REFUSAL):
        services.snooze_ticket(
            ticket, timezone.now() + timezone.timedelta(days=1), actor=Actor.agent(light)
        )
    result = services.bulk_update([ticket], actor=Actor.agent(light), status=Status.SOLVED)
    assert (result.changed, dict(result.refused)) == (0, {"role": 1})
    assert _snapshot(ticket) == before
    # A note is theirs to write.
    note = services.add_note(ticket, light, "Seen this before: the VPN drops.")
    assert note.direction == Direction.NOTE and note.author == light


def test_a_light_agent_opens_merges_and_splits_nothing(
    personas: Personas, light: User, ticket: Ticket
) -> None:
    other = make_ticket(personas.mailbox_a, personas.customer)
    with pytest.raises(services.NotPermitted):
        services.open_ticket_for_customer(
            agent=light,
            mailbox=personas.mailbox_a,
            email="x@customer.test",
            name="",
            subject="Hi",
            body_text="Hello",
            outreach=True,
        )
    with pytest.raises(services.NotPermitted):
        collab.merge_tickets(other, ticket, actor=Actor.agent(light))
    services.add_note(ticket, personas.agent_a, "second message")
    with pytest.raises(services.NotPermitted):
        collab.split_message(ticket.messages.order_by("pk").last(), actor=Actor.agent(light))
    assert Ticket.objects.count() == 2
    other.refresh_from_db()
    assert other.merged_into_id is None


def test_a_light_agent_is_never_an_assignee(
    personas: Personas, light: User, ticket: Ticket
) -> None:
    assert not User.objects.assignable(personas.mailbox_a.pk).filter(pk=light.pk).exists()
    # ...but may open the ticket, so notices about it (an @mention) may reach them.
    assert User.objects.may_open(personas.mailbox_a.pk).filter(pk=light.pk).exists()
    with pytest.raises(services.InvalidChange, match="light agent") as refusal:
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), assignee=light)
    assert refusal.value.field == "assignee"
    page = client_for(personas.agent_a).get(reverse("tickets:detail", args=[ticket.pk]))
    assert "light@staff.test" not in page.content.decode()


# --- the doors ---------------------------------------------------------------------------


def test_the_ticket_page_has_no_reply_box_for_a_light_agent(light: User, ticket: Ticket) -> None:
    page = client_for(light).get(reverse("tickets:detail", args=[ticket.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert REFUSAL in html
    assert reverse("tickets:reply", args=[ticket.pk]) not in html
    assert reverse("tickets:note", args=[ticket.pk]) in html
    assert '<select disabled name="status"' in html
    assert "data-solve" not in html  # the "e" shortcut finds nothing to press


def test_the_ticket_page_forms_refuse_a_light_agent(light: User, ticket: Ticket) -> None:
    client = client_for(light)
    before = _snapshot(ticket)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hi there"})
    assert response.status_code == 403 and REFUSAL in response.content.decode()
    response = client.post(
        reverse("tickets:update", args=[ticket.pk]), {"status": "solved"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and REFUSAL in response.content.decode()
    client.post(reverse("tickets:snooze", args=[ticket.pk]), {"until": "2099-01-01T09:00"})
    assert _snapshot(ticket) == before
    response = client.post(reverse("tickets:note", args=[ticket.pk]), {"body": "FYI: known bug"})
    assert response.status_code == 302
    assert ticket.messages.filter(direction=Direction.NOTE, author=light).count() == 1


def test_bulk_actions_and_macros_refuse_a_light_agent(light: User, ticket: Ticket) -> None:
    client = client_for(light)
    before = _snapshot(ticket)
    response = client.post(
        reverse("tickets:bulk"), {"tickets": [ticket.pk], "action": "status", "status": "solved"}
    )
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(REFUSAL in m for m in told), told
    canned = CannedReply.objects.create(
        title="Done", body="Fixed!", changes={"status": "solved", "add_tags": ["x"]}
    )
    response = client.post(reverse("tickets:macro", args=[ticket.pk, canned.pk]))
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(REFUSAL in m for m in told), told
    assert _snapshot(ticket) == before


def test_new_ticket_and_setup_pages_are_closed_to_a_light_agent(light: User) -> None:
    client = client_for(light)
    for name in ("tickets:new", "tickets:outreach-list", "tickets:canned", "tickets:rules"):
        assert client.get(reverse(name)).status_code == 403, name
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert 'value="assign"' not in inbox and reverse("tickets:new") not in inbox


def test_the_api_answers_a_light_agent_403_but_takes_notes(
    personas: Personas, light: User, ticket: Ticket
) -> None:
    api = api_client_for(light)
    before = _snapshot(ticket)
    url = reverse("api:ticket-messages", args=[ticket.pk])
    response = api.post(url, {"body": "Hi", "kind": "reply"}, format="json")
    assert response.status_code == 403 and REFUSAL in response.json()["detail"]
    response = api.patch(
        reverse("api:ticket-detail", args=[ticket.pk]), {"priority": "high"}, format="json"
    )
    assert response.status_code == 403 and REFUSAL in response.json()["detail"]
    response = api.post(
        reverse("api:ticket-list"),
        {
            "mailbox": personas.mailbox_a.address,
            "customer": "z@customer.test",
            "subject": "s",
            "body": "b",
        },
        format="json",
    )
    assert response.status_code == 403
    other = make_ticket(personas.mailbox_a, personas.customer)
    response = api.post(
        reverse("api:ticket-merge", args=[other.pk]), {"into": ticket.pk}, format="json"
    )
    assert response.status_code == 403
    assert _snapshot(ticket) == before
    response = api.post(url, {"body": "Internal: seen it", "kind": "note"}, format="json")
    assert response.status_code == 201
    assert api.get(reverse("api:ticket-detail", args=[ticket.pk])).status_code == 200
    # Only their teams' mailboxes.
    elsewhere = make_ticket(personas.mailbox_b, personas.customer)
    assert api.get(reverse("api:ticket-detail", args=[elsewhere.pk])).status_code == 404


def test_a_light_agent_cannot_change_the_requester(
    light: User, personas: Personas, ticket: Ticket
) -> None:
    client = Client()
    client.force_login(light)
    response = client.post(f"/tickets/{ticket.pk}/requester/", {"email": "sam@other.test"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.customer == personas.customer
