"""Success follow-ups: a service ticket for the customer's success contact once a customer
has opened repeated support tickets (the built-in rule "three support tickets in 30
days", action `open_follow_up`).

`open_success_follow_up` opens one for one ticket, through `create_ticket`. Inside
`together()` (the rules of a mail batch, tickets/workflow/automation/) the requests are
collected instead and `open_success_follow_ups` opens them all at the end of the rules'
pass, with the same rows, in a handful of statements: the customers locked together,
their earlier follow-ups and recent support tickets read in one query each, and the
tickets, messages and events written with one COPY each, as tickets/mail/bulk.py writes
the mail of a batch. tests/tickets/test_follow_ups.py compares both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from tickets import hooks, services
from tickets.models import (
    Channel,
    Customer,
    Direction,
    Kind,
    Message,
    Organization,
    Priority,
    Team,
    Ticket,
    TicketEvent,
    User,
)
from tickets.notify import notify_agents
from tickets.rows import copy_rows, reserve_ids
from tickets.services import Actor

log = logging.getLogger(__name__)

FOLLOW_UP_TAG = "success-follow-up"
# What a follow-up is, whichever way it is opened.
_FOLLOW_UP: dict[str, Any] = {
    "channel": Channel.OUTBOUND,
    "kind": Kind.SERVICE,
    "tags": [FOLLOW_UP_TAG],
}


@dataclass(frozen=True)
class Request:
    """A rule asked for a follow-up of `ticket`, the customer's latest support ticket."""

    ticket: Ticket
    actor: Actor
    days: int


_collected: ContextVar[list[Request] | None] = ContextVar("follow_ups_collected", default=None)


@contextmanager
def together() -> Iterator[None]:
    """Collect the follow-ups asked for inside the block and open them all when it ends
    (inside the caller's transaction), in the order they were asked for."""
    requests: list[Request] = []
    token = _collected.set(requests)
    try:
        yield
    finally:
        _collected.reset(token)
    if requests:
        open_success_follow_ups(requests)


def _opened_since(customer_id: int, since: datetime) -> bool:
    return Ticket.objects.filter(
        customer_id=customer_id,
        kind=Kind.SERVICE,
        tags__contains=[FOLLOW_UP_TAG],
        created_at__gte=since,
    ).exists()


def _recent_support(
    customer_ids: set[int], mailbox_ids: set[int], since: datetime
) -> QuerySet[Ticket, tuple[int, int, int, str, datetime]]:
    """(customer id, mailbox id, number, subject, created at) of the support tickets the
    follow-ups may list, oldest first. A follow-up lists only the customer's tickets of
    its own mailbox: it is a ticket of that mailbox, read by whoever may open that
    mailbox, and the customer's tickets elsewhere belong to teams its readers may not be
    in (the rule's count stays the customer's, as the rule says)."""
    return (
        Ticket.objects.filter(
            customer_id__in=customer_ids,
            mailbox_id__in=mailbox_ids,
            kind=Kind.SUPPORT,
            created_at__gte=since,
        )
        .order_by("created_at")
        .values_list("customer_id", "mailbox_id", "pk", "subject", "created_at")
    )


def _subject_and_body(
    customer: Customer, recent: list[tuple[int, str]], days: int
) -> tuple[str, str]:
    """What the follow-up says: `recent` are the tickets its mailbox may list."""
    who = customer.name or customer.email
    body = "\n".join(
        [
            f"{who} opened {len(recent)} support tickets in the last {days} days:",
            *(f"#{pk} {subject}" for pk, subject in recent),
            "",
            "Check in with them: is something bigger going wrong?",
        ]
    )
    return f"Check in with {who}: {len(recent)} support tickets in {days} days", body


def _agent(contact: User | None, ticket: Ticket) -> User | None:
    """The success contact, if they may hold a ticket of `ticket`'s mailbox; else the
    follow-up opens unassigned, in the inbox of that mailbox."""
    if contact is None:
        return None
    try:
        services.check_assignee(ticket, contact)
    except services.InvalidChange as refusal:
        log.warning("follow-up of #%s left unassigned: %s", ticket.pk, refusal)
        return None
    return contact


def _announce(follow_up: Ticket, customer: Customer, contact: User | None, body: str) -> None:
    if follow_up.assignee_id and contact is not None:
        notify_agents(
            [contact],
            follow_up.pk,
            lambda: gettext("Follow up with %(name)s") % {"name": customer.name or customer.email},
            body,
        )


def open_success_follow_up(ticket: Ticket, *, actor: Actor, days: int = 30) -> Ticket | None:
    """A service ticket for the customer's success contact after repeated support tickets.

    At most one per customer per `days`; the customer row is locked so two tickets arriving
    together cannot both open one. Inside `together()`, only noted (see the module).
    """
    if ticket.kind != Kind.SUPPORT:
        return None
    collected = _collected.get()
    if collected is not None:
        collected.append(Request(ticket, actor, days))
        return None
    since = timezone.now() - timedelta(days=days)
    # Every later ticket of the customer matches the rule again: one read, no lock and no
    # transaction, answers those; the lock is for the ticket that may open one.
    if _opened_since(ticket.customer_id, since):
        return None
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=ticket.customer_id)
        if _opened_since(customer.pk, since):
            return None
        recent = [
            (pk, subject)
            for _, _, pk, subject, _ in _recent_support({customer.pk}, {ticket.mailbox_id}, since)
        ]
        organization = (
            Organization.objects.select_related("success_contact")
            .filter(pk=customer.organization_id)
            .first()
            if customer.organization_id is not None
            else None
        )
        contact = organization.success_contact if organization else None
        subject, body = _subject_and_body(customer, recent, days)
        follow_up = services.create_ticket(
            mailbox=ticket.mailbox,
            customer=customer,
            subject=subject,
            body_text=body,
            direction=Direction.NOTE,
            team=ticket.team,
            **_FOLLOW_UP,
            assignee=_agent(contact, ticket),
            actor=actor,
            linked_from=ticket,
        )
        _announce(follow_up, customer, contact, body)
    return follow_up


def open_success_follow_ups(requests: list[Request]) -> list[Ticket]:
    """`open_success_follow_up` for each request, in order, written together (see the
    module). If the batch cannot be written, each request is taken alone."""
    try:
        with transaction.atomic():
            return _open_together(requests)
    except DatabaseError:
        log.exception("follow-ups of a batch failed; opening them one at a time")
    opened = []
    for request in requests:
        try:
            follow_up = open_success_follow_up(
                request.ticket, actor=request.actor, days=request.days
            )
        except Exception:
            # As for any rule action: a broken one must not stop the others.
            log.exception("follow-up of #%s failed", request.ticket.pk)
            continue
        if follow_up is not None:
            opened.append(follow_up)
    return opened


def _open_together(requests: list[Request]) -> list[Ticket]:
    requests = [r for r in requests if r.ticket.kind == Kind.SUPPORT]
    if not requests:
        return []
    now = timezone.now()
    longest = now - timedelta(days=max(r.days for r in requests))
    ids = sorted({r.ticket.customer_id for r in requests})
    customers = {
        c.pk: c
        for c in Customer.objects.select_for_update(of=("self",))
        .select_related("organization__success_contact")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    latest: dict[int, datetime] = dict(
        Ticket.objects.filter(
            customer_id__in=ids,
            kind=Kind.SERVICE,
            tags__contains=[FOLLOW_UP_TAG],
            created_at__gte=longest,
        )
        .values("customer_id")
        .annotate(latest=Max("created_at"))
        .values_list("customer_id", "latest")
    )
    wanted: list[Request] = []
    for request in requests:
        customer_id = request.ticket.customer_id
        seen = latest.get(customer_id)
        if seen is not None and seen >= now - timedelta(days=request.days):
            continue
        latest[customer_id] = now
        wanted.append(request)
    if not wanted:
        return []
    recent: dict[tuple[int, int], list[tuple[int, str, datetime]]] = {}
    for customer_id, mailbox_id, pk, subject, created_at in _recent_support(
        {r.ticket.customer_id for r in wanted}, {r.ticket.mailbox_id for r in wanted}, longest
    ):
        recent.setdefault((customer_id, mailbox_id), []).append((pk, subject, created_at))
    team_ids = {r.ticket.team_id for r in wanted if r.ticket.team_id is not None}
    teams = Team.objects.in_bulk(team_ids) if team_ids else {}

    numbers = iter(reserve_ids(Ticket, len(wanted)))
    message_pks = iter(reserve_ids(Message, len(wanted)))
    tickets: list[Ticket] = []
    messages: list[Message] = []
    events: list[TicketEvent] = []
    announced: list[tuple[Ticket, Actor, Customer, User | None, str]] = []
    for request in wanted:
        source, actor = request.ticket, request.actor
        customer = customers[source.customer_id]
        since = now - timedelta(days=request.days)
        subject, body = _subject_and_body(
            customer,
            [
                (pk, s)
                for pk, s, at in recent.get((customer.pk, source.mailbox_id), [])
                if at >= since
            ],
            request.days,
        )
        organization = customer.organization
        contact = organization.success_contact if organization else None
        # What create_ticket writes, in its order: the ticket, its created event, the
        # link on the source ticket, the note and its event, then the assignment.
        follow_up = services.new_ticket(
            mailbox=source.mailbox,
            customer=customer,
            subject=subject,
            priority=Priority.NORMAL,
            team=teams.get(source.team_id) if source.team_id is not None else None,
            at=now,
            linked_from=source,
            **_FOLLOW_UP,
        )
        follow_up.number = next(numbers)
        events.append(services.created_event(follow_up, actor=actor))
        events.append(services.linked_event(follow_up, actor=actor))
        note = services.new_message(
            follow_up, direction=Direction.NOTE, body_text=body, author=actor.user, at=now
        )
        note.pk = next(message_pks)
        messages.append(note)
        events.append(services.message_event(note, actor=actor))
        for key, value in services.message_updates(follow_up, note).items():
            setattr(follow_up, key, value)
        assignee = _agent(contact, source)
        if assignee is not None:
            changed, _ = services.apply_changes(
                follow_up, {"assignee": assignee}, actor=actor, at=now
            )
            events.extend(changed)
        tickets.append(follow_up)
        announced.append((follow_up, actor, customer, contact, body))
    copy_rows(tickets)
    copy_rows(messages)
    copy_rows(events, with_pk=False)
    for follow_up, actor, customer, contact, body in announced:
        if follow_up.assignee is not None:
            hooks.ticket_assigned(follow_up, follow_up.assignee, actor.user)
        _announce(follow_up, customer, contact, body)
        services.after_commit(follow_up.pk)
    return tickets


# --- health follow-ups -----------------------------------------------------------------

HEALTH_TAG = "health-follow-up"


@dataclass(frozen=True)
class Fall:
    """An account's health fell below a rule's threshold (automation/health.py): what the
    follow-up and the owner's mail say."""

    customer_ids: list[int]
    name: str
    before: int | None
    score: int
    threshold: float
    owner: User | None
    reasons: list[str]

    @property
    def headline(self) -> str:
        return gettext("Health of %(name)s fell to %(score)s") % {
            "name": self.name,
            "score": self.score,
        }

    @property
    def text(self) -> str:
        was = f"from {self.before} " if self.before is not None else ""
        return "\n".join(
            [
                f"The health of {self.name} fell {was}to {self.score}, "
                f"below {self.threshold:g}. What weighs on it:",
                *(f"- {reason}" for reason in self.reasons),
            ]
        )


_fall: ContextVar[Fall | None] = ContextVar("health_fall", default=None)


def current_fall() -> Fall | None:
    """The fall the health rules are acting on, if any (set by `acting_on`)."""
    return _fall.get()


@contextmanager
def acting_on(fall: Fall) -> Iterator[None]:
    token = _fall.set(fall)
    try:
        yield
    finally:
        _fall.reset(token)


def open_health_follow_up(
    fall: Fall, ticket: Ticket, *, actor: Actor, days: int = 30
) -> Ticket | None:
    """A service ticket for the account owner, on the mailbox of the account's latest
    ticket: at most one per account per `days` (the customer row of `ticket` is locked,
    so two falls computed together cannot both open one)."""
    since = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=ticket.customer_id)
        if Ticket.objects.filter(
            customer_id__in=fall.customer_ids,
            kind=Kind.SERVICE,
            tags__contains=[HEALTH_TAG],
            created_at__gte=since,
        ).exists():
            return None
        return services.create_ticket(
            mailbox=ticket.mailbox,
            customer=customer,
            subject=fall.headline,
            body_text=fall.text,
            direction=Direction.NOTE,
            team=ticket.team,
            channel=Channel.OUTBOUND,
            kind=Kind.SERVICE,
            tags=[HEALTH_TAG],
            assignee=_agent(fall.owner, ticket),
            actor=actor,
            linked_from=ticket,
        )
