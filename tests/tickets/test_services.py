import pytest

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.access import get_ticket_for
from tickets.models import (
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Mailbox,
    Status,
    Ticket,
)
from tickets.services import Actor, InvalidChange

pytestmark = pytest.mark.django_db


def test_create_ticket_records_creation_and_first_message(personas: Personas) -> None:
    ticket = make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="  Printer on fire ",
        tags=["Billing", "billing", " VIP "],
    )
    ticket.refresh_from_db()
    assert ticket.subject == "Printer on fire"
    assert ticket.status == Status.NEW
    assert ticket.tags == ["billing", "vip"]
    assert ticket.message_count == 1
    assert [e.kind for e in ticket.events.all()] == [EventKind.CREATED, EventKind.MESSAGE]
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.from_address == "li@customer.test"


def test_reply_sets_first_response_and_queues_delivery(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    message = services.reply(ticket, personas.agent_a, "On it")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_response_at == message.created_at
    assert message.delivery_status == DeliveryStatus.QUEUED
    status_event = ticket.events.get(kind=EventKind.STATUS)
    assert (status_event.before, status_event.after) == ("new", "open")
    assert status_event.actor == personas.agent_a


def test_note_is_not_a_first_response(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.add_note(ticket, personas.agent_a, "internal")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == Status.NEW


def test_customer_reply_reopens_solved_ticket(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED)
    ticket.refresh_from_db()
    assert ticket.solved_at is not None
    services.add_message(
        ticket, direction=Direction.INBOUND, body_text="still broken", actor=services.MAIL
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None
    statuses = list(ticket.events.filter(kind=EventKind.STATUS).values_list("before", "after"))
    assert statuses == [("new", "solved"), ("solved", "open")]


def test_update_ticket_writes_one_event_per_real_change(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    events = services.update_ticket(
        ticket,
        actor=Actor.agent(personas.agent_a),
        priority="urgent",
        assignee=personas.agent_a,
        kind="support",
    )
    assert sorted(e.kind for e in events) == ["assignee", "priority"]
    assignee_event = next(e for e in events if e.kind == "assignee")
    assert (assignee_event.before, assignee_event.after) == (None, "agent.a@staff.test")
    assert services.update_ticket(ticket, priority="urgent") == []


def test_closed_ticket_cannot_be_reopened(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, status=Status.CLOSED)
    with pytest.raises(InvalidChange):
        services.update_ticket(ticket, status=Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_visibility_by_role(personas: Personas) -> None:
    mine = make_ticket(personas.mailbox_a, personas.customer)
    theirs = make_ticket(personas.mailbox_b, personas.other_customer)
    visible = lambda user: set(Ticket.objects.visible_to(user).values_list("pk", flat=True))  # noqa: E731
    assert visible(personas.agent_a) == {mine.pk}
    assert visible(personas.agent_b) == {theirs.pk}
    assert visible(personas.manager) == {mine.pk, theirs.pk}
    assert visible(personas.customer.user) == {mine.pk}
    assert visible(personas.other_customer.user) == {theirs.pk}


def test_agent_visibility_follows_every_team_and_filters_as_rows_are_read(
    personas: Personas,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_user

    a = make_ticket(personas.mailbox_a, personas.customer)
    b = make_ticket(personas.mailbox_b, personas.customer)
    both = make_user(teams=[personas.team_a, personas.team_b])
    no_team = make_user()
    visible = lambda user: set(Ticket.objects.visible_to(user).values_list("pk", flat=True))  # noqa: E731
    assert visible(both) == {a.pk, b.pk}
    assert visible(no_team) == set()
    # The agent's mailboxes as an array computed once (an InitPlan), not a semi-join that
    # PostgreSQL may place after the joins of select_related (tickets.models.visible_to).
    with CaptureQueriesContext(connection) as queries:
        list(Ticket.objects.visible_to(personas.agent_a).select_related("customer"))
    assert '"mailbox_id" = ANY((ARRAY(SELECT' in queries[0]["sql"]


def test_shared_organization_sees_colleagues_tickets(personas: Personas) -> None:
    from tests.factories import make_customer
    from tickets.models import Organization

    org = Organization.objects.create(name="Shared Ltd", shares_tickets=True)
    alice = make_customer("alice@shared.test", organization=org, user=True)
    bob = make_customer("bob@shared.test", organization=org, user=True)
    ticket = make_ticket(personas.mailbox_a, alice)
    assert get_ticket_for(bob.user, ticket.pk) == ticket
    org.shares_tickets = False
    org.save()
    from django.http import Http404

    with pytest.raises(Http404):
        get_ticket_for(bob.user, ticket.pk)
    with pytest.raises(Http404):
        get_ticket_for(personas.customer.user, ticket.pk)
    with pytest.raises(Http404):
        get_ticket_for(alice.user, "not-a-number")


def _stored(ticket: Ticket) -> list[object]:
    """A ticket, its messages and events as stored, without ids and times."""
    ticket.refresh_from_db()
    skip = {"number", "created_at", "updated_at", "last_message_at", "search_vector"}
    row = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    messages = [
        (m.direction, m.body_text, m.body_html, m.from_address, m.cc, m.automatic, m.subject)
        for m in ticket.messages.order_by("id")
    ]
    events = [
        (e.kind, e.actor_kind, e.before, e.after, e.data, e.message_id is not None)
        for e in ticket.events.order_by("id")
    ]
    times = ticket.created_at == ticket.updated_at == ticket.last_message_at
    return [{k: v for k, v in row.items() if k not in skip}, messages, events, times]


@pytest.mark.parametrize("linked", [False, True])
def test_create_inbound_ticket_stores_what_create_ticket_stores(
    personas: Personas, linked: bool
) -> None:
    earlier = make_ticket(personas.mailbox_a, personas.customer) if linked else None
    fields = {
        "subject": "Printer",
        "cc": ["Ann@x.test", "a@tandem.test", "li@customer.test", "bob@y.test"],
        "message_id": "m1@x.test",
        "automatic": False,
    }
    ours = set(Mailbox.objects.values_list("address", flat=True))
    common = {
        "mailbox": personas.mailbox_a,
        "customer": personas.customer,
        "subject": " Printer on fire ",
        "body_text": "It burns",
        "body_html": "<p>It burns</p>",
        "actor": services.MAIL,
        "linked_from": earlier,
    }
    slow = services.create_ticket(**common, message_fields=fields)
    fast, message = services.create_inbound_ticket(**common, ours=ours, message_fields=fields)
    assert message.ticket_id == fast.pk
    assert _stored(fast) == _stored(slow)
    assert fast.cc == ["ann@x.test", "bob@y.test"]
    if earlier is not None:
        linked_events = earlier.events.filter(kind=EventKind.LINKED).order_by("id")
        assert [e.after for e in linked_events] == [slow.pk, fast.pk]


def test_get_or_create_customer_creates_fills_a_missing_name_and_keeps_a_known_one(
    db: None,
) -> None:
    created = services.get_or_create_customer(" Ann@X.test ", "")
    assert (created.email, created.name) == ("ann@x.test", "")
    named = services.get_or_create_customer("ann@x.test", "Ann Lee")
    assert (named.pk, named.name) == (created.pk, "Ann Lee")
    kept = services.get_or_create_customer("ann@x.test", "Someone Else")
    assert (kept.pk, kept.name) == (created.pk, "Ann Lee")
    assert Customer.objects.get(pk=created.pk).name == "Ann Lee"
