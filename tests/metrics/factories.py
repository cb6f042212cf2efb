"""Ticket histories at chosen instants, written through tickets.services like live traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metrics import services as metric_services
from metrics.models import TicketFigures
from tickets import services
from tickets.models import Customer, Direction, Mailbox, Ticket, User
from tickets.services import Actor

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
H = 3600.0


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def open_ticket(
    mailbox: Mailbox, customer: Customer, at: datetime = T0, **fields: object
) -> Ticket:
    return services.create_ticket(
        mailbox=mailbox,
        customer=customer,
        subject="Broken",
        body_text="It is broken",
        at=at,
        **fields,  # type: ignore[arg-type]
    )


def reply(ticket: Ticket, agent: User, at: datetime, **fields: object) -> None:
    services.reply(ticket, agent, "Here is the fix", at=at, **fields)


def customer_writes(ticket: Ticket, at: datetime) -> None:
    services.add_message(
        ticket, direction=Direction.INBOUND, body_text="Still broken", actor=services.MAIL, at=at
    )


def set_status(ticket: Ticket, agent: User, status: str, at: datetime) -> None:
    services.update_ticket(ticket, actor=Actor.agent(agent), at=at, status=status)


def assign(ticket: Ticket, agent: User | None, at: datetime, by: User | None = None) -> None:
    actor = Actor.agent(by) if by else services.SYSTEM
    services.update_ticket(ticket, actor=actor, at=at, assignee=agent)


def figures_of(ticket: Ticket) -> TicketFigures:
    metric_services.refresh_ticket_figures(ticket.pk)
    return TicketFigures.objects.get(ticket=ticket)
