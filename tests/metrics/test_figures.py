"""Per-ticket figures, each case computed by hand from specs/metrics.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from metrics import hooks
from metrics.models import TicketFigures, TicketStateSpan
from metrics.services import FIGURE_COLUMNS, recompute_all
from tests.conftest import Personas
from tests.factories import (
    T0,
    H,
    assign,
    customer_writes,
    figures_of,
    hours,
    open_ticket,
    reply,
    set_status,
)
from tickets import services
from tickets.models import BusinessCalendar, Direction
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def test_one_touch_ticket(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    assign(ticket, personas.agent_a, hours(0.5))
    reply(ticket, personas.agent_a, hours(2))
    set_status(ticket, personas.agent_a, "solved", hours(5))
    f = figures_of(ticket)
    assert f.customer_initiated
    assert (f.first_reply_at, f.first_reply_agent_id) == (hours(2), personas.agent_a.pk)
    assert f.first_response_seconds == 2 * H
    assert f.first_resolution_seconds == f.full_resolution_seconds == 5 * H
    assert (f.final_solve_at, f.final_solve_assignee_id) == (hours(5), personas.agent_a.pk)
    assert (f.agent_replies, f.reopens, f.one_touch) == (1, 0, True)
    assert f.status == "solved"


def test_reopened_ticket(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    set_status(ticket, personas.agent_a, "solved", hours(2))
    customer_writes(ticket, hours(3))  # solved -> open: a reopen
    reply(ticket, personas.agent_a, hours(4), status_after="solved")
    f = figures_of(ticket)
    assert f.first_solve_at == hours(2)
    assert f.first_resolution_seconds == 2 * H
    assert f.final_solve_at == hours(4)
    assert f.full_resolution_seconds == 4 * H
    # The reply sent with "reply and solve" counts as before the solve.
    assert (f.agent_replies, f.reopens, f.one_touch) == (2, 1, False)


def test_ticket_reopened_and_still_open_has_no_final_solve(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    set_status(ticket, personas.agent_a, "solved", hours(2))
    customer_writes(ticket, hours(3))
    f = figures_of(ticket)
    assert f.first_resolution_seconds == 2 * H
    assert f.final_solve_at is None and f.full_resolution_seconds is None
    assert (f.agent_replies, f.reopens, f.one_touch) == (1, 1, False)


def test_solved_straight_to_closed_is_a_solve(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    set_status(ticket, personas.agent_a, "closed", hours(3))
    f = figures_of(ticket)
    assert (f.first_solve_at, f.final_solve_at) == (hours(3), hours(3))
    assert f.full_resolution_seconds == 3 * H
    assert f.one_touch


def test_closing_a_solved_ticket_keeps_the_solve_time(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    set_status(ticket, personas.agent_a, "solved", hours(2))
    set_status(ticket, personas.agent_a, "closed", hours(50))
    f = figures_of(ticket)
    assert f.final_solve_at == hours(2)
    assert f.full_resolution_seconds == 2 * H
    assert f.status == "closed"


def test_notes_and_automatic_messages_are_not_agent_replies(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    services.add_note(ticket, personas.agent_a, "looking", at=hours(1))
    services.add_message(
        ticket,
        direction=Direction.OUTBOUND,
        body_text="We got your message",
        automatic=True,
        at=hours(1.5),
    )
    reply(ticket, personas.agent_b, hours(3))
    set_status(ticket, personas.agent_b, "solved", hours(4))
    f = figures_of(ticket)
    assert f.first_response_seconds == 3 * H
    assert f.first_reply_agent_id == personas.agent_b.pk
    assert (f.agent_replies, f.one_touch) == (1, True)


def test_agent_initiated_ticket_has_no_frt(personas: Personas) -> None:
    ticket = open_ticket(
        personas.mailbox_a,
        personas.customer,
        direction=Direction.OUTBOUND,
        actor=services.Actor.agent(personas.agent_a),
    )
    customer_writes(ticket, hours(2))
    f = figures_of(ticket)
    assert not f.customer_initiated
    assert f.first_reply_at == T0
    assert f.first_response_seconds is None and f.first_response_business_seconds is None


def test_replies_after_the_final_solve_do_not_count(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    set_status(ticket, personas.agent_a, "solved", hours(2))
    reply(ticket, personas.agent_a, hours(3))  # a follow-up on a solved ticket
    f = figures_of(ticket)
    assert (f.agent_replies, f.one_touch) == (1, True)


def test_assignee_at_final_solve(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    assign(ticket, personas.agent_a, hours(1))
    reply(ticket, personas.agent_a, hours(2))
    assign(ticket, personas.agent_b, hours(3))
    set_status(ticket, personas.agent_b, "solved", hours(4))
    assign(ticket, None, hours(5))
    f = figures_of(ticket)
    assert f.final_solve_assignee_id == personas.agent_b.pk
    assert f.assignee_id is None


def test_business_time_uses_the_mailbox_calendar(personas: Personas) -> None:
    berlin = BusinessCalendar.objects.create(
        name="Berlin",
        timezone="Europe/Berlin",
        hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    personas.mailbox_a.calendar = berlin
    personas.mailbox_a.save(update_fields=["calendar"])
    # Friday 27 March 16:00 CET; reply Monday 30 March 10:00 CEST (clocks changed Sunday).
    created = T0 + timedelta(days=25, hours=7)
    ticket = open_ticket(personas.mailbox_a, personas.customer, at=created)
    reply(ticket, personas.agent_a, created + timedelta(hours=65))
    f = figures_of(ticket)
    assert f.first_response_seconds == 65 * H
    assert f.first_response_business_seconds == 2 * H
    assert f.calendar_id == berlin.pk


def test_business_time_skips_a_holiday(personas: Personas) -> None:
    personas.mailbox_a.calendar = BusinessCalendar.objects.create(
        name="Berlin",
        timezone="Europe/Berlin",
        hours={
            d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
        holidays=[date(2026, 4, 6)],  # Easter Monday
    )
    personas.mailbox_a.save(update_fields=["calendar"])
    # Thursday 2 April 15:30 CEST; Good Friday is a working day here, Easter Monday is not.
    created = datetime(2026, 4, 2, 13, 30, tzinfo=UTC)
    ticket = open_ticket(personas.mailbox_a, personas.customer, at=created)
    # Reply Friday 3 April 09:30: 1.5 h on Thursday + 0.5 h on Friday.
    reply(ticket, personas.agent_a, datetime(2026, 4, 3, 7, 30, tzinfo=UTC))
    # Solved Tuesday 7 April 12:30: 1.5 h on Thursday, all of Friday (7 h), nothing on the
    # weekend or the holiday, Tuesday 09:00-12:00 (3 h; 12:30 falls in the lunch break).
    set_status(ticket, personas.agent_a, "solved", datetime(2026, 4, 7, 10, 30, tzinfo=UTC))
    f = figures_of(ticket)
    assert f.first_response_business_seconds == 2 * H
    assert f.first_response_seconds == 18 * H
    assert f.full_resolution_business_seconds == (1.5 + 7 + 3) * H
    assert f.full_resolution_seconds == (4 * 24 + 21) * H


def test_default_calendar_else_around_the_clock(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(30))
    assert figures_of(ticket).first_response_business_seconds == 30 * H
    BusinessCalendar.objects.create(
        name="Default", timezone="UTC", hours={"mon": [["08:00", "10:00"]]}, is_default=True
    )
    assert figures_of(ticket).first_response_business_seconds == 2 * H


def test_state_spans(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    assign(ticket, personas.agent_a, hours(1))
    reply(ticket, personas.agent_a, hours(2))  # new -> open: still open, same assignee
    set_status(ticket, personas.agent_a, "solved", hours(3))
    figures_of(ticket)
    spans = [
        (s.during.lower, s.during.upper, s.is_open, s.assignee_id)
        for s in TicketStateSpan.objects.filter(ticket=ticket).order_by("during")
    ]
    assert spans == [
        (T0, hours(1), True, None),
        (hours(1), hours(3), True, personas.agent_a.pk),
        (hours(3), None, False, personas.agent_a.pk),
    ]
    bounds = [s.during.bounds for s in TicketStateSpan.objects.filter(ticket=ticket)]
    assert sorted(bounds) == ["()", "(]", "(]"]  # an unbounded end is stored as ")"


def test_deleted_ticket_loses_its_row(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    figures_of(ticket)
    number = ticket.pk
    ticket.delete()
    from metrics.services import refresh_ticket_figures

    assert refresh_ticket_figures(number) is False
    assert not TicketFigures.objects.filter(ticket_id=number).exists()


def test_a_burst_of_changes_enqueues_one_update(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    with mock.patch("metrics.tasks.refresh_ticket_figures_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = open_ticket(personas.mailbox_a, personas.customer)
            assign(ticket, personas.agent_a, hours(1))
        assert delay.call_args_list == [mock.call(ticket.pk)]
        # The task clears the mark before reading, so the next change enqueues again.
        cache.delete(hooks.PENDING_KEY.format(ticket.pk))
        with django_capture_on_commit_callbacks(execute=True):
            reply(ticket, personas.agent_a, hours(2))
        assert delay.call_count == 2


def test_the_hook_runs_the_worker_task(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = open_ticket(personas.mailbox_a, personas.customer)
            reply(ticket, personas.agent_a, hours(1))
    finally:
        app.conf.task_always_eager = False
    assert TicketFigures.objects.get(ticket=ticket).first_response_seconds == 1 * H
    assert cache.get(hooks.PENDING_KEY.format(ticket.pk)) is None


def test_merging_and_splitting_re_measure_the_tickets_that_lost_or_gained_messages(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    """The worker's figures after a merge or a split are those a recompute gives: the
    tickets whose conversation changed are re-measured (and marked changed for the
    sweeper), even when no status changes with it."""
    from helpdesk.celery import app
    from tickets.workflow import collab

    p = personas
    source = open_ticket(p.mailbox_a, p.customer)
    reply(source, p.agent_a, hours(1))
    set_status(source, p.agent_a, "closed", hours(2))
    target = open_ticket(p.mailbox_a, p.customer, at=hours(3))
    split_from = open_ticket(p.mailbox_a, p.customer, at=hours(4))
    reply(split_from, p.agent_b, hours(5))
    customer_writes(split_from, hours(6))
    for ticket in (source, target, split_from):
        figures_of(ticket)
    before = timezone.now()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            collab.merge_tickets(source, target, actor=Actor.agent(p.agent_a))
        with django_capture_on_commit_callbacks(execute=True):
            moved = split_from.messages.get(direction=Direction.OUTBOUND)
            collab.split_message(moved, actor=Actor.agent(p.agent_b))
    finally:
        app.conf.task_always_eager = False
    columns = [c for c in FIGURE_COLUMNS if c != "computed_at"]
    measured = {
        t.pk: TicketFigures.objects.values(*columns).get(ticket=t)
        for t in (source, target, split_from)
    }
    # The target now holds the source's conversation: its first reply came an hour in.
    assert measured[target.pk]["agent_replies"] == 1
    assert measured[target.pk]["first_reply_at"] == hours(1)
    assert measured[source.pk]["agent_replies"] == 0
    assert measured[split_from.pk]["first_reply_at"] is None
    recompute_all()
    for number, row in measured.items():
        assert TicketFigures.objects.values(*columns).get(ticket_id=number) == row
    for ticket in (source, target, split_from):
        ticket.refresh_from_db()
        assert ticket.updated_at >= before


def test_a_conversation_merged_twice_and_split_back_is_measured_where_its_messages_are(
    personas: Personas,
) -> None:
    """Events never move: each message event counts for the ticket its message is on
    now, through a chain of merges and a split, alike for one ticket and for a recompute."""
    from tickets.workflow import collab

    p = personas
    first = open_ticket(p.mailbox_a, p.customer)
    reply(first, p.agent_a, hours(1))
    second = open_ticket(p.mailbox_a, p.customer, at=hours(2))
    third = open_ticket(p.mailbox_a, p.customer, at=hours(3))
    reply(third, p.agent_b, hours(4))
    collab.merge_tickets(first, second, actor=Actor.agent(p.agent_a))
    collab.merge_tickets(second, third, actor=Actor.agent(p.agent_a))
    late_reply = third.messages.get(direction=Direction.OUTBOUND, author=p.agent_b)
    split_off = collab.split_message(late_reply, actor=Actor.agent(p.agent_a))
    tickets = (first, second, third, split_off)
    measured = {t.pk: figures_of(t) for t in tickets}
    assert [measured[t.pk].agent_replies for t in tickets] == [0, 0, 1, 1]
    assert measured[third.pk].first_reply_at == hours(1)
    assert measured[third.pk].customer_initiated
    assert measured[split_off.pk].first_reply_at == hours(4)
    columns = [c for c in FIGURE_COLUMNS if c != "computed_at"]
    one_by_one = {t.pk: TicketFigures.objects.values(*columns).get(ticket=t) for t in tickets}
    recompute_all()
    for number, row in one_by_one.items():
        assert TicketFigures.objects.values(*columns).get(ticket_id=number) == row


def test_broker_outage_does_not_break_the_change(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    with (
        mock.patch("metrics.tasks.refresh_ticket_figures_task.delay", side_effect=OSError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = open_ticket(personas.mailbox_a, personas.customer)
    assert cache.get(hooks.PENDING_KEY.format(ticket.pk)) is None
    from metrics.services import stale_ticket_ids

    assert ticket.pk in stale_ticket_ids(grace=timedelta(0))


def test_a_mail_batch_enqueues_one_task_for_its_tickets(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    from helpdesk.celery import app
    from tests.mail.conftest import load
    from tickets.mail.intake import ingest_many

    raws = [load("plain.eml"), load("reply.eml"), load("latin1_qp.eml")]
    with mock.patch("metrics.tasks.refresh_tickets_figures_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            results = ingest_many(raws)
        tickets = [results[0].ticket_id, results[2].ticket_id]
        assert delay.call_args_list == [mock.call(tickets)]
        # Marked pending like one ticket's change: a second batch enqueues nothing more.
        hooks.tickets_figures_stale(tickets)
        assert delay.call_count == 1
    for ticket_id in tickets:
        cache.delete(hooks.PENDING_KEY.format(ticket_id))
    app.conf.task_always_eager = True
    try:
        hooks.tickets_figures_stale(tickets)
    finally:
        app.conf.task_always_eager = False
    assert TicketFigures.objects.filter(ticket_id__in=tickets).count() == 2
    assert not any(cache.get(hooks.PENDING_KEY.format(t)) for t in tickets)


def test_a_mail_batch_survives_a_broker_outage(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    from tests.mail.conftest import load
    from tickets.mail.intake import ingest_many

    with (
        mock.patch("metrics.tasks.refresh_tickets_figures_task.delay", side_effect=OSError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        (result,) = ingest_many([load("plain.eml")])
    assert cache.get(hooks.PENDING_KEY.format(result.ticket_id)) is None


def test_recompute_command_rebuilds_rows(personas: Personas) -> None:
    ticket = open_ticket(personas.mailbox_a, personas.customer)
    reply(ticket, personas.agent_a, hours(1))
    call_command("recompute_metrics", verbosity=0)
    assert TicketFigures.objects.get(ticket=ticket).first_response_seconds == H
    assert TicketStateSpan.objects.filter(ticket=ticket).count() == 1
