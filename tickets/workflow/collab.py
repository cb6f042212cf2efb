"""Working together on tickets: canned replies and macros, @mentions, merge and split,
snooze and reminders, proactive outreach, and the reply-collision check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from tickets.models import (
    ActorKind,
    Channel,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Message,
    NotificationKind,
    Organization,
    Status,
    Ticket,
    User,
)
from tickets.notify import notify_agents
from tickets.services import (
    SYSTEM,
    Actor,
    InvalidChange,
    add_message,
    automatic_reply_allowed,
    create_ticket,
    get_or_create_customer,
    merge_conversation,
    move_messages,
    normalize_tags,
    reply,
    snooze_ticket,
    update_ticket,
    wake_ticket,
)
from tickets.workflow.models import CannedReply, Reminder

# --- placeholders -----------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")
PLACEHOLDERS = (
    "customer.first_name",
    "customer.name",
    "customer.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
    "agent.first_name",
    "mailbox.name",
)


def placeholder_values(ticket: Ticket, agent: User | None) -> dict[str, str]:
    customer = ticket.customer
    mailbox = ticket.mailbox
    agent_name = agent.display_name if agent else (mailbox.from_name or mailbox.name)
    return {
        "customer.first_name": customer.first_name,
        "customer.name": customer.name or customer.first_name,
        "customer.email": customer.email,
        "ticket.number": str(ticket.pk),
        "ticket.subject": ticket.subject,
        "agent.name": agent_name,
        "agent.first_name": (agent.first_name or agent_name.split()[0]) if agent else agent_name,
        "mailbox.name": mailbox.from_name or mailbox.name,
    }


def render_placeholders(text: str, ticket: Ticket, agent: User | None) -> str:
    """Fill {{customer.first_name}} and friends by plain substitution.

    Deliberately not the Django template engine: a reply text written by an agent must
    not be able to reach template tags, filters or attributes beyond this list. The
    result is plain text; it is escaped wherever it is shown as HTML.
    """
    values = placeholder_values(ticket, agent)
    return _PLACEHOLDER.sub(lambda m: values.get(f"{m[1]}.{m[2]}", m[0]), text)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({f"{a}.{b}" for a, b in _PLACEHOLDER.findall(text)} - set(PLACEHOLDERS))


# --- canned replies and macros ----------------------------------------------------------

MACRO_CHANGES = ("status", "priority", "kind", "add_tags", "remove_tags", "assign_to_me")


def canned_replies_for(user: User, query: str = "") -> QuerySet[CannedReply]:
    """Shared replies and the agent's own, matching `query` in the title or text."""
    qs = CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=user))
    query = query.strip()
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(body__icontains=query))
    return qs.order_by("title", "id")


def get_canned_reply_for(user: User, pk: int | str) -> CannedReply | None:
    try:
        return canned_replies_for(user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def macro_changes(canned: CannedReply, ticket: Ticket, agent: User) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    spec = canned.changes or {}
    for name in ("status", "priority", "kind"):
        if spec.get(name):
            changes[name] = spec[name]
    if spec.get("add_tags") or spec.get("remove_tags"):
        drop = set(normalize_tags(spec.get("remove_tags") or []))
        tags = [t for t in ticket.tags if t not in drop]
        changes["tags"] = [*tags, *(spec.get("add_tags") or [])]
    if spec.get("assign_to_me"):
        changes["assignee"] = agent
    return changes


@transaction.atomic
def apply_macro(
    ticket: Ticket,
    canned: CannedReply,
    agent: User,
    body: str | None = None,
    *,
    status_after: str | None = None,
    **reply_fields: Any,
) -> Message:
    """Send the canned reply (as edited by the agent) and apply its changes, in one step.

    A macro inserted into the reply box comes back here with the agent's text, files and
    Cc (`reply_fields`); a status the agent picked there wins over the macro's."""
    text = body if body is not None else render_placeholders(canned.body, ticket, agent)
    changes = macro_changes(canned, ticket, agent)
    status = status_after or changes.pop("status", None)
    changes.pop("status", None)
    message = reply(ticket, agent, text, status_after=status, **reply_fields)
    if changes:
        update_ticket(ticket, actor=Actor.agent(agent), **changes)
    return message


def send_automatic_reply(ticket: Ticket, text: str, *, actor: Actor = SYSTEM) -> Message | None:
    """A message to the customer sent by a rule: automatic, so never counted as an agent
    reply; None when there is nothing to say, or when the ticket or its customer had
    their share of automatic answers (a mail loop: `services.automatic_reply_allowed`)."""
    body = render_placeholders(text, ticket, None).strip()
    if not body or not automatic_reply_allowed(ticket):
        return None
    return add_message(
        ticket,
        direction=Direction.OUTBOUND,
        body_text=body,
        automatic=True,
        actor=actor,
        from_address=ticket.mailbox.address,
    )


# --- @mentions --------------------------------------------------------------------------

_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


def mentioned_agents(text: str) -> list[User]:
    """Agents named as @ana, @ana.ruiz (email's local part or username) or @ana@acme.test."""
    handles = {m.rstrip(".").lower() for m in _MENTION.findall(text)}
    if not handles:
        return []
    full = {h for h in handles if "@" in h}
    local = handles - full
    agents = User.objects.agents().filter(
        Q(email__in=full) | Q(username__in=local) | Q(email__iregex=_local_part_regex(local))
        if local
        else Q(email__in=full)
    )
    return list(agents)


def _local_part_regex(local: Iterable[str]) -> str:
    return "^(" + "|".join(re.escape(h) for h in sorted(local)) + ")@"


def _words(source: str, **values: object) -> str:
    """A notice's headline, `source` (marked with gettext_noop) in the active language."""
    return gettext(source) % values


def notify_mentions(message: Message) -> list[User]:
    """Email every agent mentioned in an internal note (not the author)."""
    if message.direction != Direction.NOTE:
        return []
    users = [u for u in mentioned_agents(message.body_text) if u.pk != message.author_id]
    if users:
        author = message.author.display_name if message.author else None
        number = message.ticket_id

        def headline() -> str:
            if author is None:
                return gettext("Someone mentioned you on #%(number)s") % {"number": number}
            return gettext("%(name)s mentioned you on #%(number)s") % {
                "name": author,
                "number": number,
            }

        notify_agents(
            users,
            message.ticket_id,
            headline,
            message.body_text[:2000],
            kind=NotificationKind.MENTION,
        )
    return users


# --- merge and split --------------------------------------------------------------------


class DifferentCustomers(InvalidChange):
    """A merge of two customers' tickets that the agent has not confirmed: after it, each
    customer's messages and files are in one conversation, which the target's customer
    (and their colleagues, where the organization shares tickets) can read."""

    def __init__(self, source: Ticket, target: Ticket) -> None:
        super().__init__(
            gettext(
                "#%(source)s is %(source_customer)s's and #%(target)s is %(target_customer)s's: "
                "merged, %(target_customer)s would see %(source_customer)s's messages and files. "
                "Confirm to merge anyway."
            )
            % {
                "source": source.pk,
                "target": target.pk,
                "source_customer": _customer_name(source),
                "target_customer": _customer_name(target),
            },
            field="confirm_different_customers",
        )
        self.source, self.target = source, target


def _customer_name(ticket: Ticket) -> str:
    customer = ticket.customer
    return f"{customer.name} <{customer.email}>" if customer.name else customer.email


@transaction.atomic
def merge_tickets(
    source: Ticket, target: Ticket, *, actor: Actor, confirm_different_customers: bool = False
) -> Ticket:
    """Move source's conversation into target; source closes and redirects to target.

    Messages (with their attachments) and reminders move, so the target's conversation
    is the whole one and replies to any of those Message-IDs thread into the target; the
    target takes the source's tags and Cc too. Every change is an event: the merged
    events on both tickets (naming the other, the messages and the reminders moved), the
    target's tags and Cc, each status. Refused (InvalidChange, nothing changes) where the
    rules refuse a change, e.g. a target that would carry too many tags. Tickets of two
    customers merge only when an agent confirms it (`confirm_different_customers`;
    DifferentCustomers, naming both, otherwise): the target's customer would read the
    source's messages and files.
    """
    if source.pk == target.pk:
        raise InvalidChange(gettext("A ticket cannot be merged into itself."))
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    src, dst = locked[source.pk], locked[target.pk]
    if src.merged_into_id:
        raise InvalidChange(
            gettext("#%(number)s was already merged into #%(target)s.")
            % {"number": src.pk, "target": src.merged_into_id}
        )
    if dst.merged_into_id:
        raise InvalidChange(
            gettext("#%(number)s was merged into #%(target)s; merge into that one.")
            % {"number": dst.pk, "target": dst.merged_into_id}
        )
    if src.customer_id != dst.customer_id:
        if actor.kind != ActorKind.AGENT:
            raise InvalidChange(gettext("Only an agent may merge tickets of different customers."))
        if not confirm_different_customers:
            raise DifferentCustomers(
                Ticket.objects.select_related("customer").get(pk=src.pk),
                Ticket.objects.select_related("customer").get(pk=dst.pk),
            )
    update_ticket(dst, actor=actor, tags=[*dst.tags, *src.tags], cc=sorted({*dst.cc, *src.cc}))
    reminders = Reminder.objects.filter(ticket=src).update(ticket=dst)
    merge_conversation(src, dst, actor=actor, data={"reminders": reminders})
    if src.status != Status.CLOSED:
        update_ticket(src, actor=actor, status=Status.CLOSED)
    if dst.status == Status.SOLVED:
        update_ticket(dst, actor=actor, status=Status.OPEN)
    source.merged_into_id = dst.pk
    target.refresh_from_db()
    return target


@transaction.atomic
def split_message(message: Message, *, actor: Actor) -> Ticket:
    """Move one message (and its attachments) out into a new ticket linked to the old one."""
    source = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("mailbox", "customer")
        .get(pk=message.ticket_id)
    )
    first = Message.objects.filter(ticket=source).order_by("created_at", "id").first()
    if first is not None and first.pk == message.pk:
        raise InvalidChange(gettext("The first message is the ticket itself; split a later one."))
    customer = source.customer
    if message.direction == Direction.INBOUND and message.from_address:
        customer = get_or_create_customer(message.from_address, message.from_name)
    new = create_ticket(
        mailbox=source.mailbox,
        customer=customer,
        subject=message.subject or source.subject,
        channel=source.channel,
        kind=source.kind,
        priority=source.priority,
        tags=source.tags,
        team=source.team,
        actor=actor,
        linked_from=source,
        first_message=False,
    )
    move_messages(source, new, [message.pk], kind=EventKind.SPLIT, actor=actor)
    new.refresh_from_db()
    return new


# --- snooze and reminders ---------------------------------------------------------------


def snooze(ticket: Ticket, until: datetime, *, actor: Actor) -> None:
    """Set pending until `until`; the beat task reopens it then (a customer reply sooner)."""
    snooze_ticket(ticket, until, actor=actor)


def wake_snoozed(*, now: datetime | None = None) -> int:
    """Reopen pending tickets whose snooze ended and tell their assignee."""
    now = now or timezone.now()
    woken = 0
    due = Ticket.objects.filter(snoozed_until__lte=now).select_related("assignee")
    for ticket in due.order_by("snoozed_until")[:1000]:
        with transaction.atomic():
            if not wake_ticket(ticket, now=now):
                continue
            if ticket.assignee:
                notify_agents(
                    [ticket.assignee],
                    ticket.pk,
                    partial(_words, gettext_noop("Snooze ended on #%(number)s"), number=ticket.pk),
                    ticket.subject,
                )
            woken += 1
    return woken


def add_reminder(ticket: Ticket, agent: User, remind_at: datetime, note: str = "") -> Reminder:
    if remind_at <= timezone.now():
        raise InvalidChange(gettext("Choose a time in the future."))
    return Reminder.objects.create(ticket=ticket, agent=agent, remind_at=remind_at, note=note[:500])


def send_due_reminders(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    sent = 0
    for reminder in Reminder.objects.filter(
        sent_at__isnull=True, remind_at__lte=now
    ).select_related("agent", "ticket")[:1000]:
        with transaction.atomic():
            if Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(sent_at=now):
                notify_agents(
                    [reminder.agent],
                    reminder.ticket_id,
                    partial(
                        _words,
                        gettext_noop("Reminder: #%(number)s %(subject)s"),
                        number=reminder.ticket_id,
                        subject=reminder.ticket.subject,
                    ),
                    reminder.note,
                )
                sent += 1
    return sent


# --- outreach (follow-ups after repeated tickets: tickets/workflow/follow_ups.py) ---------------


_RECIPIENT_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class Recipients:
    emails: list[str]
    invalid: list[str]


def parse_recipients(text: str, organization: Organization | None = None) -> Recipients:
    """Addresses from a pasted list (commas, semicolons, new lines), plus an organization's."""
    emails: dict[str, None] = {}
    invalid: list[str] = []
    for raw in _RECIPIENT_SPLIT.split(text or ""):
        address = raw.strip().strip("<>").lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            invalid.append(raw)
            continue
        emails.setdefault(address, None)
    if organization is not None:
        for address in organization.customers.values_list("email", flat=True):
            emails.setdefault(address, None)
    return Recipients(list(emails), invalid)


def start_outreach(
    agent: User,
    mailbox: Mailbox,
    emails: Iterable[str],
    subject: str,
    body: str,
    *,
    tags: Iterable[str] = (),
) -> list[Ticket]:
    """One outbound service conversation per customer; each waits (pending) for a reply.

    Each ticket's first message is an ordinary queued reply, so the mail worker sends it
    with its own Message-ID and the customer's answer threads back into the ticket.
    """
    tickets = []
    for email in emails:
        with transaction.atomic():
            customer = get_or_create_customer(email)
            ticket = create_ticket(
                mailbox=mailbox,
                customer=customer,
                subject=subject,
                channel=Channel.OUTBOUND,
                kind=Kind.SERVICE,
                tags=tags,
                actor=Actor.agent(agent),
                first_message=False,
            )
            ticket.mailbox, ticket.customer = mailbox, customer
            reply(
                ticket,
                agent,
                render_placeholders(body, ticket, agent),
                status_after=Status.PENDING,
                subject=subject,
                to=[customer.email],
            )
            update_ticket(ticket, actor=Actor.agent(agent), assignee=agent)
            tickets.append(ticket)
    return tickets


# --- reply collision --------------------------------------------------------------------


def messages_since(ticket: Ticket, last_seen_message_id: int, user: User) -> list[Message]:
    """Messages others added after the one the agent's reply form was opened on."""
    return list(
        Message.objects.filter(ticket=ticket, pk__gt=last_seen_message_id, automatic=False)
        .exclude(author=user)
        .select_related("author")
        .order_by("created_at", "id")
    )


def last_message_id(ticket: Ticket) -> int:
    return (
        Message.objects.filter(ticket=ticket).order_by("-id").values_list("id", flat=True).first()
        or 0
    )
