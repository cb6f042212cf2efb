"""A customer's reply behaves the same by mail, in the portal and over the API
(tickets.services.customer_reply): on a closed ticket it opens a follow-up linked to it,
on a merged one it joins the ticket it was merged into, and the agents hear of it.

Before, only mail opened the follow-up: a portal reply to a closed request (the form was
only hidden) was stored on the closed ticket, where no one looks, the API answered 409,
a portal reply to a merged request stayed on the merged one, and a reply over the API
told no agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.mail.conftest import load
from tests.tickets.api_client import client_for
from tickets import services
from tickets.mail.ingest import Outcome
from tickets.mail.intake import ingest_message
from tickets.models import Channel, Direction, EventKind, Status, Ticket
from tickets.services import Actor
from tickets.workflow.collab import merge_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _closed_by_mail(personas: Personas) -> Ticket:
    """Li's printer ticket, opened by mail (so the mail reply threads to it), closed."""
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.CLOSED)
    return ticket


def _follow_up_of(closed: Ticket, channel: str) -> Ticket:
    follow_up = Ticket.objects.get(linked_from=closed, channel=channel)
    assert (follow_up.status, follow_up.customer.email) == (Status.NEW, "li@customer.test")
    assert follow_up.mailbox_id == closed.mailbox_id
    assert follow_up.messages.filter(direction=Direction.INBOUND).count() == 1
    assert closed.events.filter(kind=EventKind.LINKED, after=follow_up.pk).exists()
    return follow_up


def _acknowledged(ticket: Ticket) -> bool:
    return ticket.messages.filter(direction=Direction.OUTBOUND, automatic=True).exists()


def test_a_reply_to_a_closed_ticket_opens_a_follow_up_through_every_door(
    personas: Personas,
) -> None:
    personas.mailbox_a.auto_ack_enabled = True
    personas.mailbox_a.save(update_fields=["auto_ack_enabled"])
    closed = _closed_by_mail(personas)

    # Mail: a follow-up, acknowledged by mail as any ticket opened by mail.
    result = ingest_message(load("reply.eml"))
    assert result.outcome == Outcome.NEW_TICKET
    by_mail = _follow_up_of(closed, Channel.EMAIL)
    assert result.ticket_id == by_mail.pk
    assert by_mail.subject == "Re: Printer on floor 3 is jammed"
    assert _acknowledged(by_mail)

    # The portal: a follow-up, and the customer is shown it.
    portal = Client()
    portal.force_login(personas.customer.user)
    response = portal.post(reverse("portal:reply", args=[closed.pk]), {"body": "Jammed again"})
    in_portal = _follow_up_of(closed, Channel.PORTAL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:request', args=[in_portal.pk])}#latest"
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert notices == [
        f"Request #{closed.pk} is closed, so your reply opened a new request, "
        f"#{in_portal.pk}. We will get back to you."
    ]
    assert in_portal.subject == closed.subject
    assert in_portal.messages.get().body_text == "Jammed again"
    page = portal.get(reverse("portal:request", args=[closed.pk])).content.decode()
    assert "A reply opens a new request that continues it" in page

    # The API: 201, the message on the follow-up, which the answer names.
    response = client_for(personas.customer.user).post(
        f"/api/v1/tickets/{closed.pk}/messages/", {"body": "Still jammed"}, format="json"
    )
    assert response.status_code == 201, response.content
    over_api = _follow_up_of(closed, Channel.API)
    assert response.json()["ticket"] == over_api.pk
    assert response["Location"] == f"/api/v1/tickets/{over_api.pk}/"

    # The closed ticket itself got nothing (but its acknowledgement) and stays closed.
    closed.refresh_from_db()
    assert (closed.status, closed.message_count) == (Status.CLOSED, 2)
    # In the portal and over the API the customer sees the follow-up already: no mail.
    assert not _acknowledged(in_portal) and not _acknowledged(over_api)


def test_a_reply_to_a_merged_ticket_joins_the_ticket_it_was_merged_into_by_every_door(
    personas: Personas,
) -> None:
    merged = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    kept = make_ticket(personas.mailbox_a, personas.customer, subject="Printer, still")
    merge_tickets(merged, kept, actor=Actor.agent(personas.agent_a))
    before = kept.messages.count()

    assert ingest_message(load("reply.eml")).ticket_id == kept.pk

    portal = Client()
    portal.force_login(personas.customer.user)
    response = portal.post(reverse("portal:reply", args=[merged.pk]), {"body": "From the portal"})
    assert response["Location"] == f"{reverse('portal:request', args=[kept.pk])}#latest"

    response = client_for(personas.customer.user).post(
        f"/api/v1/tickets/{merged.pk}/messages/", {"body": "Over the API"}, format="json"
    )
    assert response.status_code == 201 and response.json()["ticket"] == kept.pk

    assert kept.messages.count() == before + 3
    merged.refresh_from_db()
    assert merged.message_count == 0
    assert not Ticket.objects.filter(linked_from=merged).exists()


def test_the_assignee_hears_of_a_reply_through_every_door(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    services.update_ticket(ticket, assignee=personas.agent_a)
    mailoutbox.clear()
    portal = Client()
    portal.force_login(personas.customer.user)
    api = client_for(personas.customer.user)
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(load("reply.eml"))
    with django_capture_on_commit_callbacks(execute=True):
        portal.post(reverse("portal:reply", args=[ticket.pk]), {"body": "From the portal"})
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "Over the API"}, format="json")
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]] * 3
    bodies = " ".join(m.body for m in mailoutbox)
    assert "It is working again" in bodies and "From the portal" in bodies
    assert "Over the API" in bodies
