"""A batch of inbound mail stored with a handful of statements (issue #3: >= 300 msg/s).

`store_batch` gives every message the outcome `ingest_message` would give it alone, in
order (a reply later in the batch threads onto a ticket opened earlier in it), built by
the services' own functions (`new_ticket`, `created_event`, `new_message`,
`message_updates`, `conversation_cc`, `apply_changes`), the way history import replays a
ticket (importer/batch.py). What differs is only how it is written: the threading
lookups of the whole batch are two queries, the customers one, and the tickets, messages
and events one COPY each; the tickets that gain a message are locked together and
updated in one statement.

A batch it does not cover (a bounce, a quarantine retry) raises `NotCovered` before
anything is written, and any database error rolls the batch back: the caller then
takes it message by message, each in its own savepoint (tickets/mail/ingest.py).
tests/tickets/test_mail_bulk.py compares both paths row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from helpdesk.ratelimit import Batch
from tickets import services
from tickets.mail import notify, outbound
from tickets.mail.ingest import choose_mailbox, customer_address, message_fields
from tickets.mail.parse import ParsedEmail
from tickets.mail.redis import sender_rate
from tickets.mail.tokens import base_address, ticket_from_address, ticket_from_subject
from tickets.models import (
    Attachment,
    Direction,
    Mailbox,
    Message,
    Ticket,
    TicketEvent,
)
from tickets.rows import NotCovered, copy_rows, reserve_ids

# What a message of the batch becomes: a new ticket, a message on a ticket (one already
# stored, or one opened earlier in the batch), or a refusal with its reason.


@dataclass
class _New:
    index: int
    mailbox: Mailbox
    name: str
    address: str
    linked_from: Ticket | None
    ticket: Ticket | None = None
    # Whether the message's Cc joins the ticket's (not when only the subject tag threads).
    cc_joins: bool = True


@dataclass
class _Add:
    index: int
    target: Ticket | _New
    address: str
    cc_joins: bool = True


@dataclass
class _Refused:
    index: int
    reason: str
    # Whether the quarantine entry shows the message's subject and sender, as in ingest.
    with_parsed: bool = True


@dataclass
class Stored:
    """What `store_batch` did with one message (by its index in the batch)."""

    index: int
    ticket: Ticket
    message: Message
    new_ticket: bool
    # The auto-acknowledgement stored right after it (queued, for the caller to send).
    acknowledgement: Message | None = None


@dataclass
class _Threads:
    """The batch's threading facts, read in two queries: stored Message-IDs and the
    tickets they, or the tokens in addresses and subjects, point at (locked, since the
    batch adds to them)."""

    message_tickets: dict[str, int]
    tickets: dict[int, Ticket]
    # Message-IDs of the batch's messages so far: the ticket each went to (or will open).
    here: dict[str, Ticket | _New] = field(default_factory=dict)

    @classmethod
    def load(cls, parsed: list[ParsedEmail]) -> _Threads:
        ids = {mid for p in parsed for mid in p.thread_ids}
        # Later rows win, as in ingest.find_ticket: the newest message with that id.
        known = (
            dict(
                Message.objects.filter(message_id__in=ids)
                .order_by("created_at")
                .values_list("message_id", "ticket_id")
            )
            if ids
            else {}
        )
        numbers = set(known.values())
        for p in parsed:
            numbers.update(n for a in p.recipients if (n := ticket_from_address(a)) is not None)
            if (n := ticket_from_subject(p.subject)) is not None:
                numbers.add(n)
        tickets = {}
        if numbers:
            tickets = {
                t.pk: t
                for t in Ticket.objects.select_for_update(of=("self",))
                .select_related("customer", "mailbox", "assignee")
                .filter(pk__in=numbers)
                .order_by("number")
            }
        if any(t.merged_into_id is not None for t in tickets.values()):
            raise NotCovered("a thread continues in a merged ticket")
        return cls(known, tickets)

    def find(self, parsed: ParsedEmail, sender: str) -> tuple[Ticket | _New | None, bool]:
        """ingest.find_ticket, over this batch's facts and the tickets it opened so far."""
        for message_id in parsed.thread_ids:
            earlier = self.here.get(message_id)
            if earlier is not None:
                return earlier, False
            if message_id in self.message_tickets:
                return self.tickets.get(self.message_tickets[message_id]), False
        for address in parsed.recipients:
            number = ticket_from_address(address)
            if number is not None and number in self.tickets:
                return self.tickets[number], False
        number = ticket_from_subject(parsed.subject)
        ticket = self.tickets.get(number) if number is not None else None
        if ticket is not None and (sender == ticket.customer.email or sender in ticket.cc):
            return ticket, True
        return None, False


def store_batch(
    items: list[tuple[int, ParsedEmail]],
    *,
    mailbox: Mailbox | None,
    active: list[Mailbox],
    ours: set[str],
) -> tuple[list[Stored], list[_Refused]]:
    """Store the messages `items` (index in the batch, parsed message; duplicates already
    left out) inside the caller's transaction, `mailbox` or else the one of the `active`
    mailboxes the recipients name. Returns what was stored and what was refused (index,
    reason), for the caller to quarantine."""
    if not items:
        return [], []
    if any(p.is_bounce for _, p in items):
        raise NotCovered("a bounce is matched to the message it reports, one at a time")
    threads = _Threads.load([p for _, p in items])
    senders = sender_rate().batch({customer_address(p, ours)[1] for _, p in items} - {""})
    plans = [
        _plan(i, p, mailbox or choose_mailbox(p, active), ours, threads, senders) for i, p in items
    ]
    senders.save()
    refused = [plan for plan in plans if isinstance(plan, _Refused)]
    kept = [plan for plan in plans if not isinstance(plan, _Refused)]
    parsed = dict(items)
    new = [plan for plan in kept if isinstance(plan, _New)]
    customers = services.upsert_customers(
        (plan.address, plan.name[:200], parsed[plan.index].content_language) for plan in new
    )
    numbers = iter(reserve_ids(Ticket, len(new)) if new else ())
    acks = sum(p.mailbox.auto_ack_enabled and not parsed[p.index].is_automated for p in new)
    # Read only when an acknowledgement may go out: without, `notify.auto_ack` never asks.
    replies = services.AutoReplies.load(c.pk for c in customers.values() if acks)
    message_pks = iter(reserve_ids(Message, len(kept) + acks))

    tickets: list[Ticket] = []
    changed: dict[int, tuple[Ticket, set[str]]] = {}
    messages: list[Message] = []
    events: list[TicketEvent] = []
    attachments: list[Attachment] = []
    stored: list[Stored] = []
    opened: set[int] = set()
    for plan in kept:
        p = parsed[plan.index]
        fields = message_fields(p)
        at = timezone.now()
        ticket: Ticket | None
        if isinstance(plan, _New):
            ticket = plan.ticket = services.new_inbound_ticket(
                plan.mailbox,
                customers[plan.address],
                p.subject,
                at=at,
                linked_from=plan.linked_from,
            )
            ticket.number = next(numbers)
            opened.add(ticket.number)
            tickets.append(ticket)
            events.append(services.created_event(ticket, actor=services.MAIL))
            if plan.linked_from is not None:
                events.append(services.linked_event(ticket, actor=services.MAIL))
            from_address = ticket.customer.email
        else:
            target = plan.target
            ticket = target.ticket if isinstance(target, _New) else target
            assert ticket is not None
            from_address = plan.address
            if p.content_language:
                services.remember_mail_language(plan.address, p.content_language)
        message = services.new_message(
            ticket,
            direction=Direction.INBOUND,
            body_text=p.body_text,
            body_html=p.body_html,
            at=at,
            from_address=from_address,
            automatic=p.is_automated,
            **fields,
        )
        message.pk = next(message_pks)
        messages.append(message)
        events.append(services.message_event(message, actor=services.MAIL))
        updates = services.message_updates(ticket, message)
        cc = services.conversation_cc(
            ticket,
            message,
            replaces="cc" in fields,
            excluded=ours | {ticket.customer.email},
            joins=plan.cc_joins,
        )
        if cc is not None:
            updates["cc"] = cc
        for key, value in updates.items():
            setattr(ticket, key, value)
        dirty = set(updates)
        if isinstance(plan, _Add) and not p.is_automated:
            # An out-of-office answer must not reopen a solved ticket.
            status = services.status_after_message(ticket, message)
            kept_event = services.courtesy.kept_solved_event(
                ticket, message, status, actor=services.MAIL, at=at
            )
            if kept_event is not None:
                events.append(kept_event)
            if status and status != ticket.status:
                status_events, fields_changed = services.apply_changes(
                    ticket, {"status": status}, actor=services.MAIL, at=at
                )
                events.extend(status_events)
                dirty.update(fields_changed)
        if ticket.pk not in opened:
            _, before = changed.get(ticket.pk, (ticket, set()))
            changed[ticket.pk] = (ticket, before | dirty)
        attachments += services.attachments.attachment_rows(message, p.attachments)
        stored.append(Stored(plan.index, ticket, message, isinstance(plan, _New)))
        if isinstance(plan, _New) and not p.is_automated:
            ack = _acknowledgement(message, at, replies)
            if ack is not None:
                ack.pk = next(message_pks)
                messages.append(ack)
                events.append(services.message_event(ack, actor=services.MAIL))
                for key, value in services.message_updates(ticket, ack).items():
                    setattr(ticket, key, value)
                stored[-1].acknowledgement = ack

    copy_rows(tickets)
    _update(changed)
    copy_rows(messages)
    copy_rows(events, with_pk=False)
    services.events_saved(events)
    Attachment.objects.bulk_create(attachments)
    return stored, refused


def _plan(
    index: int,
    parsed: ParsedEmail,
    mailbox: Mailbox | None,
    ours: set[str],
    threads: _Threads,
    senders: Batch,
) -> _New | _Add | _Refused:
    """ingest._ingest's decisions for one message, without writing anything."""
    if mailbox is None:
        return _Refused(
            index,
            "No mailbox: no recipient is one of ours and there is no default mailbox.",
            with_parsed=False,
        )
    name, address = customer_address(parsed, ours)
    if not address:
        return _Refused(
            index, "No usable sender address (From, Reply-To and Sender are missing or invalid)."
        )
    if base_address(address) in ours:
        return _Refused(
            index, f"Sent from our own address {address}: refused to avoid a mail loop."
        )
    target, by_subject_tag = threads.find(parsed, address)
    if isinstance(target, _New) or (target is not None and not services.opens_follow_up(target)):
        if parsed.message_id:
            threads.here[parsed.message_id] = target
        return _Add(index, target, address, cc_joins=not by_subject_tag)
    if senders.hit(address):
        return _Refused(
            index,
            f"Rate limit: more than {settings.MAIL_RATE_LIMIT_PER_HOUR} new tickets from "
            f"{address} within an hour.",
        )
    plan = _New(index, mailbox, name, address, target, cc_joins=not by_subject_tag)
    if parsed.message_id:
        threads.here[parsed.message_id] = plan
    return plan


def _acknowledgement(
    message: Message, at: datetime, replies: services.AutoReplies
) -> Message | None:
    """`notify.queue_auto_ack` in memory: the queued acknowledgement of a new ticket's
    first message, with its Message-ID (`outbound.prepare_queued` gives the rest of its
    headers from the arguments), or None when the mailbox sends none."""
    fields = notify.auto_ack(message, replies)
    if fields is None:
        return None
    ack = services.new_message(message.ticket, at=at, **fields)
    ack.message_id = outbound.new_message_id(message.ticket)
    return ack


def _update(changed: dict[int, tuple[Ticket, set[str]]]) -> None:
    """The stored tickets that gained a message, in one UPDATE (rows locked by the load)."""
    if not changed:
        return
    fields = sorted(set().union(*(dirty for _, dirty in changed.values())))
    Ticket.objects.bulk_update([ticket for ticket, _ in changed.values()], fields)
