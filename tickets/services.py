"""Every change to a ticket goes through these functions.

Each one owns its transaction, writes the TicketEvent rows that describe the change, and
schedules side effects (mail, figures, rules) only after commit. Live changes, API calls,
email ingest and history import all call the same functions, so imported history yields
the same events, and therefore the same figures, as history lived through the UI. The
`at` argument lets import replay a change at its original time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from helpdesk.instances import unsaved
from tickets import hooks
from tickets.models import (
    DONE_STATUSES,
    EMAIL_MAX_LENGTH,
    OPEN_STATUSES,
    ActorKind,
    Attachment,
    Channel,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Message,
    Organization,
    Priority,
    Status,
    Team,
    Ticket,
    TicketEvent,
    User,
)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a person (agent or customer user), or mail, a rule, the system."""

    kind: str = ActorKind.SYSTEM
    user: User | None = None
    # For automation rules: which rule acted, written into each event's data so the log
    # reads "rule X set priority high" and the engine can tell a rule's own changes apart.
    rule_id: int | None = None
    rule_name: str = ""

    @classmethod
    def agent(cls, user: User) -> Actor:
        return cls(ActorKind.AGENT, user)

    @classmethod
    def rule(cls, rule_id: int, name: str) -> Actor:
        return cls(ActorKind.RULE, None, rule_id, name)


SYSTEM = Actor()
MAIL = Actor(ActorKind.MAIL)
IMPORT = Actor(ActorKind.IMPORT)

# Fields an agent may change in place, and how each is written into the event log.
EDITABLE_FIELDS = ("status", "priority", "kind", "assignee", "team", "tags", "subject")


def normalize_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = "-".join(str(tag).strip().lower().split())[:50]
        if cleaned:
            seen.setdefault(cleaned, None)
    return sorted(seen)


def _event_value(field: str, value: Any) -> Any:
    if field == "assignee":
        return value.email if value is not None else None
    if field == "team":
        return value.name if value is not None else None
    return value


def new_event(
    ticket: Ticket,
    kind: str,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    before: Any = None,
    after: Any = None,
    message: Message | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """The event row of a change, not saved yet: `record_event` saves one, history import
    saves a batch of them at once."""
    if actor.rule_id is not None:
        data = {**(data or {}), "rule_id": actor.rule_id, "rule": actor.rule_name}
    return unsaved(TicketEvent)(
        ticket=ticket,
        kind=kind,
        at=at or timezone.now(),
        actor=actor.user,
        actor_kind=actor.kind,
        before=before,
        after=after,
        message=message,
        data=data or {},
    )


def record_event(ticket: Ticket, kind: str, **fields: Any) -> TicketEvent:
    """Save the event of a change (the arguments of `new_event`)."""
    event = new_event(ticket, kind, **fields)
    event.save(force_insert=True)
    return event


def ticket_changed(ticket_id: int) -> None:
    """Side effects of any change, run after commit: figures, rules, live counts."""
    hooks.ticket_changed(ticket_id)


def tickets_changed(ticket_ids: list[int]) -> None:
    """`ticket_changed` for tickets committed together (a mail batch): their figures
    marked stale in one Redis round trip and one task, then their workflow (rules, SLA,
    assignment) with a statement per step for all of them."""
    hooks.tickets_changed(ticket_ids)


class _TicketChanged:
    """The after-commit hook of one ticket, recognizable so it can be registered once."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id

    def __call__(self) -> None:
        ticket_changed(self.ticket_id)


# Where the pending on-commit hooks of the current coalesced_changes() block start.
_coalesce_from: ContextVar[int | None] = ContextVar("coalesce_from", default=None)


@contextmanager
def coalesced_changes() -> Iterator[None]:
    """Inside a transaction: each ticket's after-commit hook runs once, not once per change.

    History import replays a ticket's whole history in one transaction; without this,
    the rules, SLA and figures would run after commit once per message and event. Django
    drops hooks registered in a savepoint that rolls back, so a hook still pending in
    the list is one that will really run.
    """
    outer = _coalesce_from.get()
    # Nested blocks (add_message inside create_ticket, both inside an import line) keep
    # the outermost start, so a hook registered anywhere in the block is found.
    token = _coalesce_from.set(
        outer if outer is not None else len(transaction.get_connection().run_on_commit)
    )
    try:
        yield
    finally:
        _coalesce_from.reset(token)


@contextmanager
def changes_in_bulk() -> Iterator[None]:
    """`coalesced_changes` whose tickets' hooks run as one `tickets_changed` after commit.

    At the end of the block, the tickets whose hook is still pending (a savepoint that
    rolled back took its hooks with it) trade their hooks for one; other hooks (mail to
    send, notices) stay as they were.
    """
    with coalesced_changes():
        yield
        start = _coalesce_from.get() or 0
        hooks = transaction.get_connection().run_on_commit
        ids = [hook.ticket_id for _, hook, _ in hooks[start:] if isinstance(hook, _TicketChanged)]
        if ids:
            hooks[start:] = [
                entry for entry in hooks[start:] if not isinstance(entry[1], _TicketChanged)
            ]
            transaction.on_commit(lambda: tickets_changed(ids))


def after_commit(ticket_id: int) -> None:
    """Run `ticket_changed` after commit; once per ticket inside `coalesced_changes`."""
    start = _coalesce_from.get()
    if start is not None and any(
        isinstance(hook, _TicketChanged) and hook.ticket_id == ticket_id
        for _, hook, _ in transaction.get_connection().run_on_commit[start:]
    ):
        return
    transaction.on_commit(_TicketChanged(ticket_id))


def get_or_create_customer(
    email: str, name: str = "", organization: str | Organization | None = None
) -> Customer:
    """The customer for an address (case-insensitive); fills a missing name or organization."""
    email = email.strip().lower()
    if not organization:
        return _upsert_customer(email, name[:200])
    customer, created = Customer.objects.get_or_create(email=email, defaults={"name": name[:200]})
    changed: list[str] = []
    if name and not customer.name:
        customer.name = name[:200]
        changed.append("name")
    if organization and customer.organization_id is None:
        if isinstance(organization, str):
            organization, _ = Organization.objects.get_or_create(name=organization.strip()[:200])
        customer.organization = organization
        changed.append("organization")
    if (changed and not created) or changed:
        customer.save(update_fields=changed)
    return customer


# Customers for many addresses in one statement, without a savepoint: created on first
# mention, a missing name filled, a known name kept. `input` holds each address once.
_UPSERT_CUSTOMERS = """
    WITH input AS (
        SELECT * FROM unnest(%(emails)s::text[], %(names)s::text[]) AS i (email, name)
    ), stored AS (
        INSERT INTO tickets_customer AS c (email, name, created_at)
        SELECT email, name, %(at)s FROM input
        ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name
        WHERE c.name = '' AND EXCLUDED.name <> ''
        RETURNING c.*
    )
    SELECT * FROM stored
    UNION ALL
    SELECT * FROM tickets_customer
    WHERE email = ANY(%(emails)s) AND email NOT IN (SELECT email FROM stored)
"""


def _upsert_customer(email: str, name: str) -> Customer:
    """`get_or_create_customer` without an organization: see `upsert_customers`."""
    return upsert_customers([(email, name)])[email]


def upsert_customers(mentions: Iterable[tuple[str, str]]) -> dict[str, Customer]:
    """The customer of each (address, name) mention, as `get_or_create_customer` would
    leave it after the mentions one by one, in one statement: an address is created on
    its first mention, and its first non-empty name fills a missing one."""
    names: dict[str, str] = {}
    for email, name in mentions:
        if not names.get(email):
            names[email] = name
    if not names:
        return {}
    params = {"emails": list(names), "names": list(names.values()), "at": timezone.now()}
    found = {c.email: c for c in Customer.objects.raw(_UPSERT_CUSTOMERS, params)}
    for email in names.keys() - found.keys():
        # Created by another transaction after this statement's snapshot was taken: the
        # INSERT saw it (and waited for it), the SELECT's snapshot did not.
        customer = found[email] = Customer.objects.get(email=email)
        if names[email] and not customer.name:
            customer.name = names[email]
            customer.save(update_fields=["name"])
    return found


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
) -> Ticket:
    """A new ticket in its first state (status new, unassigned), not saved yet."""
    return unsaved(Ticket)(
        subject=(subject or "(no subject)").strip()[:998] or "(no subject)",
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
) -> Ticket:
    """Open a ticket with its first message.

    `direction` says who initiated it: inbound (the customer wrote) or outbound (an agent
    reached out). With `first_message=False` (history import) messages are added
    separately with their own timestamps.
    """
    at = at or timezone.now()
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
    )
    ticket.save(force_insert=True)
    created_event(ticket, actor=actor).save(force_insert=True)
    if linked_from is not None:
        linked_event(ticket, actor=actor).save(force_insert=True)
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
) -> Ticket:
    """A ticket a customer opens by mail, not saved yet (see `new_ticket`)."""
    return new_ticket(
        mailbox=mailbox,
        customer=customer,
        subject=subject,
        channel=Channel.EMAIL,
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
) -> tuple[Ticket, Message]:
    """What `create_ticket` stores for a ticket a customer opens (inbound first message,
    email channel, no team or assignee), built by the same functions, in three INSERTs:
    no savepoints, no lock of a ticket nobody else can see yet, the message's changes to
    the ticket (count, recency, Cc) set before its row is written. The caller holds the
    transaction; `ours` is every mailbox address (kept out of the Cc).
    tests/test_services.py compares both on the same input."""
    at = timezone.now()
    ticket = new_inbound_ticket(mailbox, customer, subject, at=at, linked_from=linked_from)
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
        ticket, message, replaces="cc" in message_fields, excluded=ours | {customer.email}
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
    TicketEvent.objects.bulk_create(events)
    after_commit(ticket.pk)
    return ticket, message


@transaction.atomic
@coalesced_changes()
def add_message(
    ticket: Ticket,
    *,
    direction: str,
    body_text: str,
    body_html: str = "",
    author: User | None = None,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    automatic: bool = False,
    from_address: str = "",
    apply_status_rules: bool = True,
    send: bool = True,
    status_after: str | None = None,
    **fields: Any,
) -> Message:
    """Append a message to the conversation and record it.

    With `apply_status_rules` (live traffic, not import) a customer message reopens a
    solved ticket and wakes a pending one, and an agent's first reply moves a new ticket
    to open. An outbound message is stored as queued; the mail worker sends it.
    `status_after` sets the status in the same step (e.g. "reply and set pending").
    """
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    is_mail_out = direction == Direction.OUTBOUND and send
    message = new_message(
        ticket,
        direction=direction,
        body_text=body_text,
        body_html=body_html,
        author=author,
        at=at,
        automatic=automatic,
        from_address=from_address,
        send=send,
        **fields,
    )
    message.save(force_insert=True)
    message_event(message, actor=actor).save(force_insert=True)
    updates = message_updates(ticket, message)
    # Not in message_updates: reads mailboxes and the customer (imports carry no Cc).
    thread_cc = conversation_cc(ticket, message, replaces="cc" in fields)
    if thread_cc is not None:
        updates["cc"] = thread_cc
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    for key, value in updates.items():
        setattr(ticket, key, value)

    new_status = status_after
    if new_status is None and apply_status_rules:
        new_status = status_after_message(ticket, message)
    if new_status and new_status != ticket.status:
        update_ticket(ticket, actor=actor, at=at, status=new_status)
    if is_mail_out:
        hooks.message_queued(message)
    after_commit(ticket.pk)
    return message


def conversation_cc(
    ticket: Ticket, message: Message, *, replaces: bool, excluded: set[str] | None = None
) -> list[str] | None:
    """The conversation's Cc list after a message, or None when the message leaves it alone.

    A customer's Cc adds people to the thread (never our own mailboxes or the customer);
    an agent's reply that names its Cc (`replaces`) says who stays on it. `excluded`, when
    the caller knows it, is every mailbox address and the customer's (else two queries).
    """
    if message.direction == Direction.OUTBOUND and not message.automatic and replaces:
        wanted = list(message.cc)
    elif message.direction == Direction.INBOUND and not message.automatic and message.cc:
        wanted = [*ticket.cc, *message.cc]
    else:
        return None
    wanted = [a.strip().lower() for a in wanted if a and "@" in a and len(a) <= EMAIL_MAX_LENGTH]
    if not wanted:
        return [] if ticket.cc else None
    ours = excluded
    if ours is None:
        ours = set(
            Mailbox.objects.filter(address__in=wanted).values_list("address", flat=True)
        ) | set(Customer.objects.filter(pk=ticket.customer_id).values_list("email", flat=True))
    cc = sorted({address for address in wanted if address not in ours})
    return cc if cc != sorted(ticket.cc) else None


def new_message(
    ticket: Ticket,
    *,
    direction: str,
    body_text: str,
    body_html: str = "",
    author: User | None = None,
    at: datetime,
    automatic: bool = False,
    from_address: str = "",
    send: bool = True,
    **fields: Any,
) -> Message:
    """A message of the conversation, not saved yet; outbound mail starts queued."""
    is_mail_out = direction == Direction.OUTBOUND and send
    fields.setdefault(
        "delivery_status", DeliveryStatus.QUEUED if is_mail_out else DeliveryStatus.NONE
    )
    return unsaved(Message)(
        ticket=ticket,
        direction=direction,
        body_text=body_text,
        body_html=body_html,
        author=author,
        automatic=automatic,
        created_at=at,
        from_address=from_address,
        **fields,
    )


def message_event(message: Message, *, actor: Actor) -> TicketEvent:
    """The event that records a new message, not saved yet."""
    author = message.author
    return new_event(
        message.ticket,
        EventKind.MESSAGE,
        actor=actor,
        at=message.created_at,
        message=message,
        after=message.direction,
        data={"automatic": message.automatic, "author": author.email if author else None},
    )


def message_updates(ticket: Ticket, message: Message) -> dict[str, Any]:
    """The ticket fields a new message changes: count, recency, first response."""
    at = message.created_at
    updates = {"message_count": ticket.message_count + 1, "updated_at": max(ticket.updated_at, at)}
    if message.direction != Direction.NOTE:
        updates["last_message_at"] = at
    if message.is_agent_reply and ticket.first_response_at is None:
        updates["first_response_at"] = at
    return updates


def status_after_message(ticket: Ticket, message: Message) -> str | None:
    """A customer message wakes a solved or pending ticket; a first agent reply opens it."""
    if message.direction == Direction.INBOUND and ticket.status in (Status.SOLVED, Status.PENDING):
        return Status.OPEN
    if message.is_agent_reply and ticket.status == Status.NEW:
        return Status.OPEN
    return None


class InvalidChange(ValueError):
    """A change that the ticket's state does not allow (e.g. reopening a closed ticket)."""


def apply_changes(
    ticket: Ticket, changes: dict[str, Any], *, actor: Actor, at: datetime
) -> tuple[list[TicketEvent], list[str]]:
    """Set `changes` on the ticket in memory: one event (not saved yet) per field that
    really changed, and the fields to save. Solving and reopening keep `solved_at`."""
    events: list[TicketEvent] = []
    update_fields: list[str] = []
    for field, value in changes.items():
        before = getattr(ticket, field)
        if before == value:
            continue
        setattr(ticket, field, value)
        update_fields.append(field)
        events.append(
            new_event(
                ticket,
                field,
                actor=actor,
                at=at,
                before=_event_value(field, before),
                after=_event_value(field, value),
            )
        )
        if field == "status":
            if value in DONE_STATUSES and before in OPEN_STATUSES:
                ticket.solved_at = at
                update_fields.append("solved_at")
            elif value in OPEN_STATUSES:
                ticket.solved_at = None
                update_fields.append("solved_at")
    if update_fields:
        ticket.updated_at = max(ticket.updated_at, at)
    return events, update_fields


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    **changes: Any,
) -> list[TicketEvent]:
    """Change any of EDITABLE_FIELDS; one event per field that really changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_ticket cannot change {sorted(unknown)}")
    at = at or timezone.now()
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("assignee", "team")
        .get(pk=ticket.pk)
    )
    if "tags" in changes:
        changes["tags"] = normalize_tags(changes["tags"])
    if (
        "status" in changes
        and locked.status == Status.CLOSED
        and changes["status"] != Status.CLOSED
        and actor.kind != ActorKind.IMPORT
    ):
        raise InvalidChange("A closed ticket cannot be reopened; a new message opens a follow-up.")
    events, update_fields = apply_changes(locked, changes, actor=actor, at=at)
    TicketEvent.objects.bulk_create(events)
    if "assignee" in update_fields and locked.assignee is not None:
        hooks.ticket_assigned(locked, locked.assignee, actor.user)
    if update_fields:
        locked.save(update_fields=[*dict.fromkeys(update_fields), "updated_at"])
        for field in [*update_fields, "updated_at"]:
            setattr(ticket, field, getattr(locked, field))
        after_commit(ticket.pk)
    return events


@transaction.atomic
def reply(
    ticket: Ticket,
    agent: User,
    body_text: str,
    *,
    status_after: str | None = None,
    attachments: Iterable[UploadedFile] = (),
    **fields: Any,
) -> Message:
    """An agent's reply, stored as queued; the mail worker sends it after commit."""
    message = add_message(
        ticket,
        direction=Direction.OUTBOUND,
        body_text=body_text,
        author=agent,
        actor=Actor.agent(agent),
        from_address=ticket.mailbox.address,
        status_after=status_after,
        **fields,
    )
    # Same transaction as the message: the sender, enqueued on commit, sees every file.
    attach_files(message, attachments)
    return message


def attach_files(message: Message, files: Iterable[UploadedFile]) -> list[Attachment]:
    """Store uploaded files on a message, keeping the name people see and its size."""
    return [
        Attachment.objects.create(
            message=message,
            file=upload,
            filename=os.path.basename((upload.name or "attachment").replace("\\", "/"))[:255]
            or "attachment",
            content_type=(upload.content_type or "application/octet-stream")[:255],
            size=upload.size or 0,
        )
        for upload in files
    ]


def add_note(
    ticket: Ticket,
    agent: User,
    body_text: str,
    *,
    attachments: Iterable[UploadedFile] = (),
    **fields: Any,
) -> Message:
    """An internal note; agents @mentioned in it are notified after commit."""
    with transaction.atomic():
        message = add_message(
            ticket,
            direction=Direction.NOTE,
            body_text=body_text,
            author=agent,
            actor=Actor.agent(agent),
            **fields,
        )
        attach_files(message, attachments)
        hooks.note_added(message)
    return message


@transaction.atomic
def bulk_update(
    tickets: Iterable[Ticket], *, actor: Actor, add_tag: str = "", **changes: Any
) -> tuple[int, int]:
    """Apply one change to many tickets, one event per ticket that really changed.

    Returns (changed, refused): a ticket whose state forbids the change (a closed ticket
    asked to reopen) is left as it is and counted, the others still change.
    """
    changed = refused = 0
    for ticket in tickets:
        ticket_changes = dict(changes)
        if add_tag:
            ticket_changes["tags"] = [*ticket.tags, add_tag]
        try:
            if update_ticket(ticket, actor=actor, **ticket_changes):
                changed += 1
        except InvalidChange:
            refused += 1
    return changed, refused


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
