"""Every change writes an event, and no event is ever rewritten: merge, split, snooze and
the end of a snooze included, whatever the door (the ticket page's actions, the beat, a
customer's reply by mail or in the portal, an agent's change on the page or the API).

Before, a merge re-pointed the source's message events to the target and rewrote the
target's tags and Cc with no event, a split re-pointed the moved message's event, a
snooze set `snoozed_until` without an event, and the workflow cleared it (a reply woke
the ticket) with a raw UPDATE.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from metrics.models import TicketFigures
from metrics.services import recompute_all, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.mail.conftest import load
from tests.tickets.api_client import client_for
from tickets import services
from tickets.mail.intake import ingest_message
from tickets.models import Direction, EventKind, Status, Ticket, TicketEvent
from tickets.workflow import collab
from tickets.workflow.models import Reminder

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _agent(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.agent_a)
    return client


def _events() -> dict[int, tuple[Any, ...]]:
    """Every event row as it is stored, to show none was rewritten."""
    return {
        e.pk: (e.ticket_id, e.kind, e.at, e.before, e.after, e.data)
        for e in TicketEvent.objects.all()
    }


def _activity(client: Client, ticket: Ticket) -> str:
    return client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()


def test_a_merge_records_what_moved_on_both_tickets_and_rewrites_no_event(
    personas: Personas,
) -> None:
    p = personas
    agent = _agent(p)
    target = make_ticket(p.mailbox_a, p.customer, tags=["a"])
    source = make_ticket(p.mailbox_a, p.customer, tags=["b"])
    # Each conversation's Cc, as a customer's Cc'd mail would have left it.
    Ticket.objects.filter(pk=target.pk).update(cc=["boss@customer.test"])
    Ticket.objects.filter(pk=source.pk).update(cc=["colleague@customer.test"])
    services.reply(source, p.agent_a, "Reply on source")
    Reminder.objects.create(ticket=source, agent=p.agent_a, remind_at=timezone.now())
    moved = sorted(source.messages.values_list("pk", flat=True))
    before = _events()

    response = agent.post(reverse("tickets:merge", args=[source.pk]), {"into": target.pk})
    assert response["Location"] == reverse("tickets:detail", args=[target.pk])

    after = _events()
    assert {pk: after[pk] for pk in before} == before, "an event was rewritten"
    merged_out = source.events.get(kind=EventKind.MERGED)
    merged_in = target.events.get(kind=EventKind.MERGED)
    assert (merged_out.after, merged_out.data) == (target.pk, {"messages": moved, "reminders": 1})
    assert (merged_in.before, merged_in.data) == (source.pk, {"messages": moved, "reminders": 1})
    tags = target.events.get(kind=EventKind.TAGS)
    assert (tags.before, tags.after) == (["a"], ["a", "b"])
    cc = target.events.get(kind="cc")
    assert (cc.before, cc.after) == (
        ["boss@customer.test"],
        ["boss@customer.test", "colleague@customer.test"],
    )
    target.refresh_from_db()
    assert (target.tags, target.cc) == (
        ["a", "b"],
        ["boss@customer.test", "colleague@customer.test"],
    )

    # The target's activity reads the moved conversation (the source's reply) as its own.
    page = _activity(agent, target)
    assert f"merged #{source.pk} into this ticket (2 messages)" in page
    assert "replied" in page
    # The figures agree: the incremental worker's and a full recompute's.
    refresh_ticket_figures(target.pk)
    incremental = TicketFigures.objects.get(ticket=target)
    assert incremental.agent_replies == 1 and incremental.customer_initiated
    recompute_all()
    assert TicketFigures.objects.get(ticket=target).first_reply_at == incremental.first_reply_at


def test_a_split_records_what_moved_on_both_tickets_and_rewrites_no_event(
    personas: Personas,
) -> None:
    agent = _agent(personas)
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    other = services.add_message(
        ticket, direction=Direction.INBOUND, body_text="Another question", subject="Invoices"
    )
    before = _events()

    agent.post(reverse("tickets:split", args=[ticket.pk, other.pk]))

    new = Ticket.objects.get(linked_from=ticket)
    after = _events()
    assert {pk: after[pk] for pk in before} == before, "an event was rewritten"
    split_out = ticket.events.get(kind=EventKind.SPLIT)
    split_in = new.events.get(kind=EventKind.SPLIT)
    assert (split_out.after, split_out.data) == (new.pk, {"messages": [other.pk]})
    assert (split_in.before, split_in.data) == (ticket.pk, {"messages": [other.pk]})
    assert f"split this ticket from #{ticket.pk} (1 message)" in _activity(agent, new)


def _snoozed(personas: Personas, agent: Client, **fields: Any) -> Ticket:
    ticket = make_ticket(personas.mailbox_a, personas.customer, **fields)
    until = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert agent.post(reverse("tickets:snooze", args=[ticket.pk]), {"until": until}).status_code
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and ticket.snoozed_until is not None
    return ticket


def _snooze_events(ticket: Ticket) -> list[tuple[Any, Any]]:
    return [(e.before, e.after) for e in ticket.events.filter(kind="snooze").order_by("id")]


def test_a_snooze_and_its_end_write_events_whatever_ends_it(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    agent = _agent(personas)

    # The ticket page's snooze: the status and the time it wakes, each an event.
    by_beat = _snoozed(personas, agent, assignee=personas.agent_a)
    until = by_beat.snoozed_until.isoformat()
    assert _snooze_events(by_beat) == [(None, until)]
    assert by_beat.events.filter(kind=EventKind.STATUS, after=Status.PENDING).exists()

    # The beat wakes it when due.
    assert collab.wake_snoozed(now=by_beat.snoozed_until) == 1
    by_beat.refresh_from_db()
    assert (by_beat.status, by_beat.snoozed_until) == (Status.OPEN, None)
    assert _snooze_events(by_beat) == [(None, until), (until, None)]

    # A customer's reply by mail wakes it sooner: the reply (and its ticket) by mail.
    by_mail = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id)
    until = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    agent.post(reverse("tickets:snooze", args=[by_mail.pk]), {"until": until})
    with django_capture_on_commit_callbacks(execute=True):
        ingest_message(load("reply.eml"))
    # In the portal, over the API (an agent's PATCH), on the ticket page: the same.
    in_portal = _snoozed(personas, agent)
    portal = Client()
    portal.force_login(personas.customer.user)
    with django_capture_on_commit_callbacks(execute=True):
        portal.post(reverse("portal:reply", args=[in_portal.pk]), {"body": "Back again"})
    over_api = _snoozed(personas, agent)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(personas.agent_a).patch(
            f"/api/v1/tickets/{over_api.pk}/", {"status": "open"}, format="json"
        )
    on_page = _snoozed(personas, agent)
    with django_capture_on_commit_callbacks(execute=True):
        agent.post(
            reverse("tickets:update", args=[on_page.pk]), {"status": "on_hold"}, headers=HTMX
        )

    for ticket in (by_mail, in_portal, over_api, on_page):
        ticket.refresh_from_db()
        assert ticket.status != Status.PENDING and ticket.snoozed_until is None
        (_, snoozed_until), (ended_at, ended) = _snooze_events(ticket)
        assert ended_at == snoozed_until and ended is None
        assert "ended the snooze" in _activity(agent, ticket)
