"""Success follow-ups opened together (a mail batch's rules) are those opened one by one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import services
from tickets.models import Kind, Organization, Ticket
from tickets.workflow import follow_ups
from tickets.workflow.follow_ups import FOLLOW_UP_TAG

pytestmark = pytest.mark.django_db

ACTOR = services.Actor.rule(7, "Three support tickets in 30 days")


def _scenario(personas: Personas, run: str) -> list[Ticket]:
    """Tickets a rule asks follow-ups for, in order: two customers with three support
    tickets (one of them in an organization whose success contact is an agent, on a
    team's ticket), asked twice for the second; a customer followed up last week (none
    again); one followed up 40 days ago (a new one); and a service ticket (never)."""
    org = Organization.objects.create(name=f"Org {run}", success_contact=personas.agent_a)
    kim = make_customer(f"kim.{run}@customer.test", organization=org, name="Kim Lee")
    lou = make_customer(f"lou.{run}@customer.test")
    recent = make_customer(f"rae.{run}@customer.test", name="Rae")
    older = make_customer(f"ole.{run}@customer.test", name="Ole")
    asked = []
    for customer, team in ((kim, personas.team_a), (lou, None)):
        tickets = [
            make_ticket(personas.mailbox_a, customer, subject=f"Issue {'abc'[n]} {run}", team=team)
            for n in range(3)
        ]
        asked += [tickets[-1], tickets[-1]] if customer is lou else [tickets[-1]]
    for customer, days_ago in ((recent, 7), (older, 40)):
        make_ticket(personas.mailbox_a, customer, subject=f"Again {run}")
        earlier = make_ticket(
            personas.mailbox_a, customer, kind=Kind.SERVICE, tags=[FOLLOW_UP_TAG], subject="Old"
        )
        Ticket.objects.filter(pk=earlier.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
        asked.append(Ticket.objects.get(customer=customer, kind=Kind.SUPPORT))
    asked.append(make_ticket(personas.mailbox_b, lou, kind=Kind.SERVICE, subject=f"Talk {run}"))
    return [Ticket.objects.select_related("customer", "mailbox").get(pk=t.pk) for t in asked]


def _snapshot(run: str) -> list[Any]:
    """The follow-ups opened for the run's customers, their note and events, and the link
    on the ticket each follows up; ticket numbers as T0, T1... in the order of the run's
    tickets."""
    mine = Ticket.objects.filter(customer__email__contains=f".{run}@").order_by("number")
    names = {str(pk): f"T{n}" for n, pk in enumerate(mine.values_list("pk", flat=True))}

    def ref(value: object) -> str:
        return names.get(str(value), str(value))

    def text(value: object) -> str:
        plain = str(value).replace(run, "RUN")
        # "#123" in a note, "'linked_from': 123" in an event's data.
        return re.sub(r"(#|'linked_from': )(\d+)", lambda m: m.group(1) + ref(m.group(2)), plain)

    rows = []
    for ticket in mine.filter(tags__contains=[FOLLOW_UP_TAG]).exclude(subject="Old"):
        rows.append(
            [
                ref(ticket.pk),
                text(ticket.subject),
                text(ticket.customer.email),
                (ticket.kind, ticket.channel, ticket.status, ticket.priority, ticket.tags),
                (ticket.team_id, ticket.assignee_id, ref(ticket.linked_from_id)),
                (ticket.message_count, ticket.updated_at >= ticket.created_at),
                (ticket.last_message_at, ticket.first_response_at, ticket.solved_at),
                [
                    (m.direction, text(m.body_text), m.author_id, m.from_address, m.delivery_status)
                    for m in ticket.messages.order_by("id")
                ],
                [
                    (e.kind, e.actor_kind, e.actor_id, text(e.before), text(e.after), text(e.data))
                    for e in ticket.events.order_by("id")
                ],
                [
                    (e.kind, e.actor_kind, ref(e.after), e.data)
                    for e in ticket.linked_from.events.filter(kind="linked")
                ],
            ]
        )
    return rows


def test_follow_ups_opened_together_are_those_opened_alone(
    personas: Personas, no_builtin_rules: None, django_capture_on_commit_callbacks: Any
) -> None:
    alone_asked = _scenario(personas, "alone")
    together_asked = _scenario(personas, "together")
    with django_capture_on_commit_callbacks() as alone_hooks:
        for ticket in alone_asked:
            follow_ups.open_success_follow_up(ticket, actor=ACTOR, days=30)
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as together_hooks,
        follow_ups.together(),
    ):
        for ticket in together_asked:
            # Only noted: nothing is written until the block ends.
            assert follow_ups.open_success_follow_up(ticket, actor=ACTOR, days=30) is None
        assert not any("INSERT" in q["sql"] or "COPY" in q["sql"] for q in queries.captured_queries)

    expected = _snapshot("alone")
    assert _snapshot("together") == expected
    # Kim (assigned to the success contact, on team A), Lou once, Ole; not Rae, not the
    # service ticket.
    assert [row[2] for row in expected] == [
        "kim.RUN@customer.test",
        "lou.RUN@customer.test",
        "ole.RUN@customer.test",
    ]
    assert expected[0][4][:2] == (personas.team_a.pk, personas.agent_a.pk)
    assert "3 support tickets in 30 days" in expected[0][1]
    # The same work after commit: each follow-up's workflow, the contact's notice.
    assert len(together_hooks) == len(alone_hooks) == 4
    # Locks, earlier follow-ups, recent tickets, teams, two sequences, three COPYs.
    assert len(queries.captured_queries) <= 12


def test_follow_ups_together_take_the_same_statements_for_more_customers(
    personas: Personas, no_builtin_rules: None
) -> None:
    def asked(n: int, run: str) -> list[Ticket]:
        tickets = []
        for k in range(n):
            customer = make_customer(f"c{k}.{run}@customer.test")
            for _ in range(3):
                ticket = make_ticket(personas.mailbox_a, customer)
            tickets.append(ticket)
        return tickets

    counts = []
    for n, run in ((2, "two"), (12, "twelve")):
        tickets = asked(n, run)
        with CaptureQueriesContext(connection) as queries, follow_ups.together():
            for ticket in tickets:
                follow_ups.open_success_follow_up(ticket, actor=ACTOR, days=30)
        counts.append(len(queries.captured_queries))
        assert (
            Ticket.objects.filter(
                customer__email__endswith=f".{run}@customer.test", tags=[FOLLOW_UP_TAG]
            ).count()
            == n
        )
    assert counts[0] == counts[1]


def test_follow_ups_that_cannot_be_written_together_are_opened_one_by_one(
    personas: Personas, no_builtin_rules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    asked = _scenario(personas, "fallback")

    def broken(rows: list[Any], *, with_pk: bool = True) -> None:
        raise DatabaseError("COPY failed")

    monkeypatch.setattr(follow_ups, "copy_rows", broken)
    with follow_ups.together():
        for ticket in asked:
            follow_ups.open_success_follow_up(ticket, actor=ACTOR, days=30)
    assert [row[2] for row in _snapshot("fallback")] == [
        "kim.RUN@customer.test",
        "lou.RUN@customer.test",
        "ole.RUN@customer.test",
    ]
