"""Plain factory functions for every test: people, mailboxes and tickets, knowledge-base
articles, and ticket histories at chosen instants for the metrics tests.

Everything is written through the services, like live traffic. The personas and other
fixtures live in conftest.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from kb import services as kb_services
from kb.models import Article, ArticleStatus, Category, Section, Visibility
from metrics import services as metric_services
from metrics.models import TicketFigures
from tickets import services
from tickets.models import Customer, Direction, Mailbox, Organization, Role, Team, Ticket, User
from tickets.services import Actor

_seq = itertools.count(1)


# People, mailboxes and tickets.


def make_user(role: str = Role.AGENT, *, teams: list[Team] | None = None, **fields: Any) -> User:
    n = next(_seq)
    email = fields.pop("email", f"{role}{n}@staff.test")
    user = User.objects.create_user(
        username=email,
        email=email,
        password=fields.pop("password", "pass-word-123"),
        role=role,
        **fields,
    )
    for team in teams or []:
        team.members.add(user)
    return user


def make_mailbox(*, teams: list[Team] | None = None, **fields: Any) -> Mailbox:
    n = next(_seq)
    fields.setdefault("address", f"support{n}@tandem.test")
    fields.setdefault("name", f"Support {n}")
    mailbox = Mailbox.objects.create(**fields)
    for team in teams or []:
        mailbox.teams.add(team)
    return mailbox


def make_customer(
    email: str | None = None,
    *,
    organization: Organization | None = None,
    user: bool = False,
    **fields: Any,
) -> Customer:
    email = email or f"customer{next(_seq)}@example.test"
    customer = Customer.objects.create(email=email, organization=organization, **fields)
    if user:
        customer.user = make_user(Role.CUSTOMER, email=email)
        customer.save(update_fields=["user"])
    return customer


def make_ticket(mailbox: Mailbox, customer: Customer, **fields: Any) -> Ticket:
    fields.setdefault("subject", f"Problem {next(_seq)}")
    fields.setdefault("body_text", "Something is broken.")
    return services.create_ticket(mailbox=mailbox, customer=customer, **fields)


# The knowledge base, shared by the kb, portal and browser tests.


def make_section(category: str = "Account", section: str = "Signing in") -> Section:
    cat, _ = Category.objects.get_or_create(
        slug=category.lower().replace(" ", "-"), defaults={"name": category}
    )
    found, _ = Section.objects.get_or_create(category=cat, name=section)
    return found


def make_article(
    title: str | None = None,
    body: str = "Some helpful words.",
    *,
    section: Section | None = None,
    author: User | None = None,
    status: str = ArticleStatus.PUBLISHED,
    visibility: str = Visibility.PUBLIC,
    **fields: Any,
) -> Article:
    if author is None:
        author = User.objects.filter(role="agent").first() or User.objects.create_user(
            username=f"writer{next(_seq)}@staff.test",
            email=f"writer{next(_seq)}@staff.test",
            role="agent",
        )
    return kb_services.save_article(
        Article(),
        editor=author,
        title=title or f"Article {next(_seq)}",
        body_markdown=body,
        section=section or make_section(),
        status=status,
        visibility=visibility,
        **fields,
    )


# Ticket histories at chosen instants, for the metrics tests.

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
