"""New tickets: opened by a customer, by an agent on their behalf, or as outreach."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpdesk.instances import unsaved
from tickets.formatting import render_reply
from tickets.models import (
    ActorKind,
    AppliesTo,
    Channel,
    Customer,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services.changes import update_ticket
from tickets.services.customers import get_or_create_customer
from tickets.services.events import (
    SYSTEM,
    Actor,
    after_commit,
    coalesced_changes,
    new_event,
    save_events,
)
from tickets.services.fields import clean_fields
from tickets.services.messages import (
    add_message,
    conversation_cc,
    message_event,
    message_updates,
    new_message,
)
from tickets.services.policy import (
    check_actor,
    check_team,
    clean_subject,
    clean_tags,
    normalize_tags,
)


def new_ticket(
    *,
    mailbox: Mailbox,
    customer: Customer,
    subject: str,
    channel: str,
    kind: str,
    priority: str,
    tags: Iterable[str],
    team: Team | None,
    at: datetime,
    external_id: str | None = None,
    linked_from: Ticket | None = None,
    fields: dict[str, Any] | None = None,
) -> Ticket:
    """A new ticket in its first state (status new, unassigned), not saved yet; `fields`
    as `clean_fields` left them."""
    return unsaved(Ticket)(
        subject=clean_subject(subject),
        mailbox=mailbox,
        customer=customer,
        channel=channel,
        kind=kind,
        priority=priority,
        tags=normalize_tags(tags),
        team=team,
        created_at=at,
        updated_at=at,
        external_id=external_id,
        linked_from=linked_from,
        fields=fields or {},
    )


def linked_event(ticket: Ticket, *, actor: Actor) -> TicketEvent:
    """The event on the earlier ticket that a new one built by `new_ticket` continues
    (its `linked_from`), not saved yet."""
    assert ticket.linked_from is not None
    return new_event(
        ticket.linked_from, EventKind.LINKED, actor=actor, at=ticket.created_at, after=ticket.pk
    )


def created_event(ticket: Ticket, *, actor: Actor) -> TicketEvent:
    """The first event of a ticket built by `new_ticket`: its starting state."""
    return new_event(
        ticket,
        EventKind.CREATED,
        actor=actor,
        at=ticket.created_at,
        after={
            "status": ticket.status,
            "priority": ticket.priority,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "mailbox": ticket.mailbox.address,
            "customer": ticket.customer.email,
            "tags": ticket.tags,
            "team": ticket.team.name if ticket.team else None,
            **({"fields": ticket.fields} if ticket.fields else {}),
        },
        data={"linked_from": ticket.linked_from.pk} if ticket.linked_from else None,
    )


@transaction.atomic
@coalesced_changes()
def create_ticket(
    *,
    mailbox: Mailbox,
    customer: Customer,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    direction: str = Direction.INBOUND,
    channel: str = Channel.EMAIL,
    kind: str = Kind.SUPPORT,
    priority: str = Priority.NORMAL,
    tags: Iterable[str] = (),
    team: Team | None = None,
    assignee: User | None = None,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    external_id: str | None = None,
    linked_from: Ticket | None = None,
    first_message: bool = True,
    message_fields: dict[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first message.

    `direction` says who initiated it: inbound (the customer wrote) or outbound (an agent
    reached out). With `first_message=False` (history import) messages are added
    separately with their own timestamps. Raises InvalidChange, opening nothing, if
    the rules refuse the tags, the team or the assignee (tickets/services/policy.py);
    history import too must name a team that works the mailbox (the importer gives it
    the mailbox first). Custom `fields` are checked for every actor (FieldErrors).
    """
    at = at or timezone.now()
    check_actor(actor.user)
    if actor.kind != ActorKind.IMPORT:
        tags = clean_tags(tags)
    values = clean_fields(AppliesTo.TICKET, {}, fields) if fields else {}
    ticket = new_ticket(
        mailbox=mailbox,
        customer=customer,
        subject=subject,
        channel=channel,
        kind=kind,
        priority=priority,
        tags=tags,
        team=team,
        at=at,
        external_id=external_id,
        linked_from=linked_from,
        fields=values,
    )
    if team is not None:
        check_team(ticket, team)
    ticket.save(force_insert=True)
    created = [created_event(ticket, actor=actor)]
    if linked_from is not None:
        created.append(linked_event(ticket, actor=actor))
    save_events(created)
    if first_message:
        add_message(
            ticket,
            direction=direction,
            body_text=body_text,
            body_html=body_html,
            author=actor.user if direction != Direction.INBOUND else None,
            actor=actor,
            at=at,
            from_address=customer.email if direction == Direction.INBOUND else "",
            apply_status_rules=False,
            **(message_fields or {}),
        )
    if assignee is not None:
        update_ticket(ticket, actor=actor, at=at, assignee=assignee)
    after_commit(ticket.pk)
    return ticket


def new_inbound_ticket(
    mailbox: Mailbox,
    customer: Customer,
    subject: str,
    *,
    at: datetime,
    linked_from: Ticket | None,
    channel: str = Channel.EMAIL,
) -> Ticket:
    """A ticket a customer opens (by mail unless `channel` says otherwise), not saved yet
    (see `new_ticket`)."""
    return new_ticket(
        mailbox=mailbox,
        customer=customer,
        subject=subject,
        channel=channel,
        kind=Kind.SUPPORT,
        priority=Priority.NORMAL,
        tags=(),
        team=None,
        at=at,
        linked_from=linked_from,
    )


def create_inbound_ticket(
    *,
    mailbox: Mailbox,
    customer: Customer,
    subject: str,
    body_text: str,
    body_html: str,
    actor: Actor,
    linked_from: Ticket | None,
    ours: set[str],
    message_fields: dict[str, Any],
    channel: str = Channel.EMAIL,
    cc_joins: bool = True,
) -> tuple[Ticket, Message]:
    """What `create_ticket` stores for a ticket a customer opens (inbound first message,
    by mail unless `channel` says otherwise, no team or assignee), built by the same
    functions, in three INSERTs:
    no savepoints, no lock of a ticket nobody else can see yet, the message's changes to
    the ticket (count, recency, Cc) set before its row is written. The caller holds the
    transaction; `ours` is every mailbox address (kept out of the Cc); `cc_joins` as in
    `add_message`.
    tests/tickets/test_services.py compares both on the same input."""
    at = timezone.now()
    ticket = new_inbound_ticket(
        mailbox, customer, subject, at=at, linked_from=linked_from, channel=channel
    )
    created = created_event(ticket, actor=actor)
    message = new_message(
        ticket,
        direction=Direction.INBOUND,
        body_text=body_text,
        body_html=body_html,
        at=at,
        from_address=customer.email,
        **message_fields,
    )
    updates = message_updates(ticket, message)
    cc = conversation_cc(
        ticket,
        message,
        replaces="cc" in message_fields,
        excluded=ours | {customer.email},
        joins=cc_joins,
    )
    if cc is not None:
        updates["cc"] = cc
    for key, value in updates.items():
        setattr(ticket, key, value)
    ticket.save(force_insert=True)
    message.save(force_insert=True)
    events = [created, message_event(message, actor=actor)]
    if linked_from is not None:
        events.insert(1, linked_event(ticket, actor=actor))
    save_events(events)
    after_commit(ticket.pk)
    return ticket, message


@transaction.atomic
def open_ticket_for_customer(
    *,
    agent: User,
    mailbox: Mailbox,
    email: str,
    name: str,
    subject: str,
    body_text: str,
    outreach: bool,
    channel: str = Channel.EMAIL,
    priority: str = Priority.NORMAL,
    tags: Iterable[str] = (),
    assign_to_me: bool = True,
) -> Ticket:
    """A ticket an agent opens: on behalf of a customer, or as outreach (kind service).

    Outreach starts with our own outbound message (queued for mail) and waits for the
    customer, so it is pending rather than new.
    """
    actor = Actor.agent(agent)
    ticket = create_ticket(
        mailbox=mailbox,
        customer=get_or_create_customer(email, name),
        subject=subject,
        body_text=body_text,
        # An agent writing to the customer: Markdown, as in a reply.
        body_html=render_reply(body_text) if outreach else "",
        direction=Direction.OUTBOUND if outreach else Direction.INBOUND,
        channel=Channel.OUTBOUND if outreach else channel,
        kind=Kind.SERVICE if outreach else Kind.SUPPORT,
        priority=priority,
        tags=tags,
        assignee=agent if assign_to_me else None,
        actor=actor,
    )
    if outreach:
        update_ticket(ticket, actor=actor, status=Status.PENDING)
    return ticket
