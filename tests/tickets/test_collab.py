"""Canned replies and macros, mentions, merge and split, snooze, reminders, outreach."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.history import history_events, merged_target
from tickets.models import (
    Attachment,
    Channel,
    DeliveryStatus,
    Direction,
    EventKind,
    Kind,
    Status,
    Ticket,
)
from tickets.services import Actor, InvalidChange
from tickets.workflow import collab
from tickets.workflow.models import CannedReply, Reminder

pytestmark = pytest.mark.django_db


def test_placeholders_are_filled_and_nothing_else_is_evaluated(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    text = (
        "Hi {{ customer.first_name }}, about #{{ticket.number}} - {{agent.name}}. "
        "{{ settings.SECRET_KEY }} {% load x %} {{ticket.customer.user.password}}"
    )
    rendered = collab.render_placeholders(text, ticket, personas.agent_a)
    assert rendered.startswith(f"Hi Li, about #{ticket.pk} - Ana. ")
    # Unknown placeholders stay as typed; no template engine ever sees the text.
    assert "{{ settings.SECRET_KEY }} {% load x %} {{ticket.customer.user.password}}" in rendered
    assert collab.unknown_placeholders("{{ticket.secret}} {{customer.first_name}}") == [
        "ticket.secret"
    ]


def test_canned_replies_personal_or_shared_and_searchable(personas: Personas) -> None:
    shared = CannedReply.objects.create(title="Password reset", body="Use the reset link")
    mine = CannedReply.objects.create(title="My sign-off", body="Cheers", owner=personas.agent_a)
    CannedReply.objects.create(title="Ben's", body="reset secrets", owner=personas.agent_b)
    assert list(collab.canned_replies_for(personas.agent_a)) == [mine, shared]
    assert list(collab.canned_replies_for(personas.agent_a, "RESET")) == [shared]
    assert collab.get_canned_reply_for(personas.agent_a, "nonsense") is None


def test_macro_replies_and_applies_changes_in_one_step(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, tags=["new-user"])
    macro = CannedReply.objects.create(
        title="Waiting for logs",
        body="Hi {{customer.first_name}}, please send the logs.",
        changes={
            "status": "pending",
            "priority": "high",
            "add_tags": ["logs"],
            "remove_tags": ["new-user"],
            "assign_to_me": True,
        },
    )
    message = collab.apply_macro(ticket, macro, personas.agent_a)
    ticket.refresh_from_db()
    assert message.body_text == "Hi Li, please send the logs."
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert (ticket.status, ticket.priority, ticket.tags, ticket.assignee) == (
        Status.PENDING,
        "high",
        ["logs"],
        personas.agent_a,
    )
    assert set(ticket.events.filter(actor=personas.agent_a).values_list("kind", flat=True)) >= {
        "message",
        "status",
        "priority",
        "tags",
        "assignee",
    }


def test_mention_in_note_notifies_the_agent(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    # Ben works mailbox A too: a mention reaches only people who may open the ticket
    # (tests/tickets/test_visibility_audit.py).
    personas.team_a.members.add(personas.agent_b)
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(
            ticket, personas.agent_a, "@agent.b can you look? cc @agent.a@staff.test and @nobody"
        )
    assert [m.to for m in mailoutbox] == [["agent.b@staff.test"]]
    assert f"#{ticket.pk}" in mailoutbox[0].subject and "mentioned you" in mailoutbox[0].subject
    assert "/tickets/" in mailoutbox[0].body
    # Public replies never notify by mention: the only new mail is the reply itself.
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, personas.agent_a, "@agent.b hello")
    assert [m.to for m in mailoutbox[1:]] == [[personas.customer.email]]


def test_merge_keeps_everything_and_redirects(personas: Personas) -> None:
    target = make_ticket(personas.mailbox_a, personas.customer, tags=["a"])
    source = make_ticket(personas.mailbox_a, personas.customer, tags=["b"])
    services.reply(source, personas.agent_a, "Reply on source")
    source_message = source.messages.first()
    Attachment.objects.create(
        message=source_message, file=ContentFile(b"log", name="log.txt"), filename="log.txt"
    )
    merged = collab.merge_tickets(source, target, actor=Actor.agent(personas.agent_a))
    source.refresh_from_db()
    assert merged.pk == target.pk
    assert merged.message_count == 3
    assert merged.tags == ["a", "b"]
    assert merged.first_response_at is not None
    assert Attachment.objects.get().message.ticket_id == target.pk
    # Events stay where they happened; the target's history reads the moved ones.
    assert target.events.filter(kind=EventKind.MESSAGE).count() == 1
    assert history_events(target).filter(kind=EventKind.MESSAGE).count() == 3
    assert not history_events(source).filter(kind=EventKind.MESSAGE).exists()
    assert (source.status, source.merged_into_id, source.message_count) == (
        Status.CLOSED,
        target.pk,
        0,
    )
    assert source.events.get(kind=EventKind.MERGED).after == target.pk
    assert target.events.get(kind=EventKind.MERGED).before == source.pk
    assert merged_target(source) == target
    with pytest.raises(InvalidChange):
        collab.merge_tickets(source, target, actor=Actor.agent(personas.agent_a))
    with pytest.raises(InvalidChange):
        collab.merge_tickets(target, target, actor=Actor.agent(personas.agent_a))


def test_split_moves_a_message_into_a_linked_ticket(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    other = services.add_message(
        ticket,
        direction=Direction.INBOUND,
        body_text="Also, a separate question about invoices",
        from_address="li@customer.test",
        subject="Invoices",
    )
    new = collab.split_message(other, actor=Actor.agent(personas.agent_a))
    ticket.refresh_from_db()
    assert new.subject == "Invoices" and new.linked_from_id == ticket.pk
    assert list(new.messages.all()) == [other]
    assert (ticket.message_count, new.message_count) == (1, 1)
    assert history_events(new).filter(kind=EventKind.MESSAGE, message=other).exists()
    assert not history_events(ticket).filter(message=other).exists()
    assert ticket.events.filter(kind=EventKind.LINKED, after=new.pk).exists()
    with pytest.raises(InvalidChange):
        collab.split_message(ticket.messages.get(), actor=Actor.agent(personas.agent_a))


def test_snooze_reopens_when_due_and_customer_reply_cancels_it(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    until = timezone.now() + timedelta(days=2)
    collab.snooze(ticket, until, actor=Actor.agent(personas.agent_a))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.snoozed_until) == (Status.PENDING, until)
    assert collab.wake_snoozed(now=until - timedelta(minutes=1)) == 0
    assert collab.wake_snoozed(now=until) == 1
    ticket.refresh_from_db()
    assert (ticket.status, ticket.snoozed_until) == (Status.OPEN, None)
    with pytest.raises(InvalidChange):
        collab.snooze(
            ticket, timezone.now() - timedelta(hours=1), actor=Actor.agent(personas.agent_a)
        )
    collab.snooze(ticket, until, actor=Actor.agent(personas.agent_a))
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket, direction=Direction.INBOUND, body_text="Any news?")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.snoozed_until) == (Status.OPEN, None)


def test_reminders_are_sent_once(
    personas: Personas, django_capture_on_commit_callbacks: Any, eager_tasks: None, mailoutbox: Any
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    at = timezone.now() + timedelta(hours=1)
    collab.add_reminder(ticket, personas.agent_a, at, "Call them back")
    with django_capture_on_commit_callbacks(execute=True):
        assert collab.send_due_reminders(now=at - timedelta(seconds=1)) == 0
        assert collab.send_due_reminders(now=at) == 1
        assert collab.send_due_reminders(now=at) == 0
    assert [m.to for m in mailoutbox] == [["agent.a@staff.test"]]
    assert "Call them back" in mailoutbox[0].body
    assert Reminder.objects.get().sent_at == at


def test_outreach_to_a_list_opens_outbound_service_conversations(personas: Personas) -> None:
    existing = make_customer("old@client.test", name="Olga Old")
    recipients = collab.parse_recipients("old@client.test, NEW@client.test;\nnot-an-address")
    assert recipients.emails == ["old@client.test", "new@client.test"]
    assert recipients.invalid == ["not-an-address"]
    tickets = collab.start_outreach(
        personas.agent_a,
        personas.mailbox_a,
        recipients.emails,
        "Renewal check-in",
        "Hi {{customer.first_name}}, your renewal is coming up.",
    )
    assert len(tickets) == 2
    first = Ticket.objects.get(pk=tickets[0].pk)
    assert (first.kind, first.channel, first.status, first.customer) == (
        Kind.SERVICE,
        Channel.OUTBOUND,
        Status.PENDING,
        existing,
    )
    assert first.assignee == personas.agent_a
    message = first.messages.get()
    assert message.direction == Direction.OUTBOUND and message.to == ["old@client.test"]
    assert message.body_text == "Hi Olga, your renewal is coming up."
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert Ticket.objects.get(pk=tickets[1].pk).customer.email == "new@client.test"


def test_messages_since_detects_another_agents_reply(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    seen = collab.last_message_id(ticket)
    services.add_note(ticket, personas.agent_a, "my own note")
    assert collab.messages_since(ticket, seen, personas.agent_a) == []
    other = services.reply(ticket, personas.agent_b, "I answered already")
    assert collab.messages_since(ticket, seen, personas.agent_a) == [other]
