"""The incremental path and `recompute_metrics` agree exactly on random histories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics.models import TicketFigures, TicketStateSpan
from metrics.services import FIGURE_COLUMNS, recompute_all, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import T0
from tickets import services
from tickets.models import BusinessCalendar, Direction
from tickets.services import Actor, InvalidChange

pytestmark = pytest.mark.django_db

STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed"]
step = st.one_of(
    st.tuples(st.just("reply"), st.integers(0, 1)),
    st.tuples(st.just("reply_and_solve"), st.integers(0, 1)),
    st.tuples(st.just("note"), st.integers(0, 1)),
    st.tuples(st.just("automatic"), st.just(0)),
    st.tuples(st.just("customer"), st.just(0)),
    st.tuples(st.just("status"), st.integers(0, len(STATUSES) - 1)),
    st.tuples(st.just("assign"), st.integers(0, 2)),
)
history = st.tuples(
    st.booleans(),  # customer-initiated?
    st.integers(0, 1),  # mailbox
    st.lists(st.tuples(st.integers(0, 50_000), step), max_size=10),
)


def _play(p: Personas, inbound: bool, mailbox: int, steps) -> int:
    agents = [p.agent_a, p.agent_b]
    ticket = services.create_ticket(
        mailbox=[p.mailbox_a, p.mailbox_b][mailbox],
        customer=p.customer,
        subject="Random",
        body_text="...",
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        actor=services.MAIL if inbound else Actor.agent(p.agent_a),
        at=T0,
    )
    at = T0
    for gap, (action, arg) in steps:
        # Gaps of zero make several events share an instant, as one request does.
        at += timedelta(seconds=gap)
        ticket.refresh_from_db()
        try:
            if action == "reply":
                services.reply(ticket, agents[arg], "r", at=at)
            elif action == "reply_and_solve":
                services.reply(ticket, agents[arg], "r", at=at, status_after="solved")
            elif action == "note":
                services.add_note(ticket, agents[arg], "n", at=at)
            elif action == "automatic":
                services.add_message(
                    ticket, direction=Direction.OUTBOUND, body_text="a", automatic=True, at=at
                )
            elif action == "customer":
                services.add_message(
                    ticket, direction=Direction.INBOUND, body_text="c", actor=services.MAIL, at=at
                )
            elif action == "status":
                services.update_ticket(ticket, at=at, status=STATUSES[arg])
            else:
                services.update_ticket(ticket, at=at, assignee=[None, *agents][arg])
        except InvalidChange:
            pass  # a closed ticket refuses to reopen, as in the product
    return ticket.pk


def _snapshot(numbers: list[int]):
    figures = {
        row[0]: row
        for row in TicketFigures.objects.filter(ticket_id__in=numbers).values_list(
            *[c for c in FIGURE_COLUMNS if c != "computed_at"]
        )
    }
    spans = sorted(
        (s.ticket_id, s.during.lower, s.during.upper, s.during.bounds, s.is_open, s.assignee_id)
        for s in TicketStateSpan.objects.filter(ticket_id__in=numbers)
    )
    return figures, spans


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=st.lists(history, min_size=1, max_size=3))
def test_incremental_and_full_recompute_agree(personas: Personas, histories) -> None:
    BusinessCalendar.objects.get_or_create(
        name="Office",
        defaults={
            "timezone": "America/New_York",
            "hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]]},
            "holidays": ["2026-03-03"],
            "is_default": True,
        },
    )
    numbers = []
    for inbound, mailbox, steps in histories:
        number = _play(personas, inbound, mailbox, steps)
        numbers.append(number)
        refresh_ticket_figures(number)
    incremental = _snapshot(numbers)
    assert len(incremental[0]) == len(numbers)
    recompute_all(batch_size=2)
    assert _snapshot(numbers) == incremental


@pytest.mark.django_db(transaction=True)
def test_parallel_recompute_agrees(personas: Personas) -> None:
    steps = [
        (0, ("reply", 0)),
        (600, ("status", 4)),
        (60, ("customer", 0)),
        (60, ("assign", 2)),
        (60, ("reply_and_solve", 1)),
    ]
    numbers = [_play(personas, n % 2 == 0, n % 2, steps[: n + 1]) for n in range(5)]
    for number in numbers:
        refresh_ticket_figures(number)
    incremental = _snapshot(numbers)
    recompute_all(batch_size=2, workers=2)
    assert _snapshot(numbers) == incremental
