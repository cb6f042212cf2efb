"""Messages of the conversation: customer messages, agent replies, internal notes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from helpdesk.instances import unsaved
from tickets import hooks
from tickets.formatting import inline_image_names, new_content_id, render_reply
from tickets.models import (
    EMAIL_MAX_LENGTH,
    Customer,
    DeliveryStatus,
    Direction,
    EventKind,
    Mailbox,
    Message,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services import courtesy
from tickets.services.attachments import attach_files, shown_name
from tickets.services.changes import change_locked
from tickets.services.events import (
    SYSTEM,
    Actor,
    after_commit,
    coalesced_changes,
    new_event,
    save_events,
)
from tickets.services.policy import check_actor


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
    cc_joins: bool = True,
    **fields: Any,
) -> Message:
    """Append a message to the conversation and record it.

    With `apply_status_rules` (live traffic, not import) a customer message reopens a
    solved ticket and wakes a pending one, and an agent's first reply moves a new ticket
    to open. An outbound message is stored as queued; the mail worker sends it. A light
    agent adds notes only (NotPermitted).
    `status_after` sets the status in the same step (e.g. "reply and set pending").
    `cc_joins=False` keeps an inbound message's Cc out of the conversation's (see
    `conversation_cc`).
    """
    at = at or timezone.now()
    if direction != Direction.NOTE:
        # A light agent writes internal notes only (and nobody writes "as" one).
        check_actor(actor.user)
        check_actor(author)
    ticket = _locked(ticket)
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
    save_events([message_event(message, actor=actor)])
    updates = message_updates(ticket, message)
    # Not in message_updates: reads mailboxes and the customer (imports carry no Cc).
    thread_cc = conversation_cc(ticket, message, replaces="cc" in fields, joins=cc_joins)
    if thread_cc is not None:
        updates["cc"] = thread_cc
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    for key, value in updates.items():
        setattr(ticket, key, value)

    new_status = status_after
    if new_status is None and apply_status_rules:
        new_status = status_after_message(ticket, message)
        kept = courtesy.kept_solved_event(ticket, message, new_status, actor=actor, at=at)
        if kept is not None:
            kept.save(force_insert=True)
    if new_status and new_status != ticket.status:
        # The row is locked and read above: changed in place, not read again.
        change_locked(ticket, {"status": new_status}, actor=actor, at=at)
    if is_mail_out:
        hooks.message_queued(message)
    after_commit(ticket.pk)
    return message


def _locked(ticket: Ticket) -> Ticket:
    """The ticket read afresh under a row lock, keeping the mailbox and customer the caller
    already loaded when the row still names them (the mail's headers read both)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    for descriptor in (Ticket.mailbox, Ticket.customer):
        field = descriptor.field
        held = field.get_cached_value(ticket) if field.is_cached(ticket) else None
        if held is not None and held.pk == getattr(locked, field.attname):
            field.set_cached_value(locked, held)
    return locked


def conversation_cc(
    ticket: Ticket,
    message: Message,
    *,
    replaces: bool,
    excluded: set[str] | None = None,
    joins: bool = True,
) -> list[str] | None:
    """The conversation's Cc list after a message, or None when the message leaves it alone.

    A customer's Cc adds people to the thread (never our own mailboxes or the customer);
    an agent's reply that names its Cc (`replaces`) says who stays on it. `excluded`, when
    the caller knows it, is every mailbox address and the customer's (else two queries).
    `joins=False` says the message's sender is not proven to belong to the conversation
    (mail threaded by its unsigned subject tag alone, whose From anyone can write): its
    Cc is kept on the message but adds nobody, or a forged mail could copy an outsider on
    every reply.
    """
    if message.direction == Direction.OUTBOUND and not message.automatic and replaces:
        wanted = list(message.cc)
    elif message.direction == Direction.INBOUND and not message.automatic and message.cc and joins:
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
    """A customer message wakes a solved or pending ticket (unless it only says thanks:
    tickets.services.courtesy); a first agent reply opens it."""
    if message.direction == Direction.INBOUND and ticket.status in (Status.SOLVED, Status.PENDING):
        return None if courtesy.keeps_solved(ticket, message) else Status.OPEN
    if message.is_agent_reply and ticket.status == Status.NEW:
        return Status.OPEN
    return None


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
    """An agent's reply, stored as queued; the mail worker sends it after commit.

    The text is Markdown (tickets/formatting.py): stored as written, and rendered to the
    sanitized `body_html` the email and the conversation show. An image it shows as
    `attachment:<name>` is the attached file of that name, sent inline (a Content-ID)."""
    files = list(attachments)
    content_ids = inline_content_ids(ticket.mailbox, body_text, files)
    fields.setdefault("body_html", render_reply(body_text, content_ids))
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
    attach_files(message, files, inline=content_ids)
    return message


def inline_content_ids(
    mailbox: Mailbox, markdown: str, files: list[UploadedFile]
) -> dict[str, str]:
    """A Content-ID for each attached file the reply shows as an inline image."""
    names = {shown_name(upload.name or "") for upload in files}
    domain = mailbox.address.partition("@")[2]
    return {name: new_content_id(domain) for name in inline_image_names(markdown) if name in names}


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
