"""Business-time figures follow a calendar edit without a manual `recompute_metrics`."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from metrics.models import TicketFigures
from tests.conftest import Personas
from tests.factories import H, figures_of, hours, make_mailbox, open_ticket, reply
from tickets import calendars
from tickets.models import BusinessCalendar, Ticket

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
TEN_TO_FIVE = {day: [["10:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _answered_after_two_hours(personas: Personas, mailbox: Any) -> Ticket:
    # Monday 09:00 in Berlin; answered at 11:00.
    ticket = open_ticket(mailbox, personas.customer)
    reply(ticket, personas.agent_a, hours(2))
    return ticket


def _business_frt(ticket: Ticket) -> float:
    return TicketFigures.objects.get(pk=ticket.pk).first_response_business_seconds


def test_editing_a_calendar_recomputes_the_figures_it_measures(
    personas: Personas, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = BusinessCalendar.objects.create(
        name="Berlin", timezone="Europe/Berlin", hours=NINE_TO_FIVE
    )
    measured = make_mailbox(calendar=berlin)
    elsewhere = make_mailbox()  # no calendar, and no default: around the clock
    ticket = _answered_after_two_hours(personas, measured)
    other = _answered_after_two_hours(personas, elsewhere)
    assert figures_of(ticket).first_response_business_seconds == 2 * H
    assert figures_of(other).first_response_business_seconds == 2 * H

    with django_capture_on_commit_callbacks(execute=True):
        berlin.hours = TEN_TO_FIVE
        calendars.save_calendar(berlin)
    assert _business_frt(ticket) == 1 * H  # 10:00 to 11:00
    assert _business_frt(other) == 2 * H

    # Saved as it was: nothing queued. A holiday on that Monday: no business time.
    with django_capture_on_commit_callbacks() as queued:
        calendars.save_calendar(berlin)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        berlin.holidays = ["2026-03-02"]
        calendars.save_calendar(berlin)
    assert _business_frt(ticket) == 0

    # The mailbox without a calendar follows a new default calendar, and a mailbox
    # moved to another calendar follows that one.
    with django_capture_on_commit_callbacks(execute=True):
        calendars.save_calendar(
            BusinessCalendar(name="Office", hours=NINE_TO_FIVE, is_default=True)
        )
    assert _business_frt(other) == 1 * H  # 08:00 to 10:00 UTC, open from 09:00 UTC
    with django_capture_on_commit_callbacks(execute=True):
        measured.calendar = None
        calendars.save_mailbox(measured)
    assert _business_frt(ticket) == 1 * H  # the default now, no holiday


def test_the_admin_says_the_figures_are_being_recomputed(
    personas: Personas, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    personas.admin.is_staff = True
    personas.admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(personas.admin)
    berlin = BusinessCalendar.objects.create(
        name="Berlin", timezone="Europe/Berlin", hours=NINE_TO_FIVE
    )
    ticket = _answered_after_two_hours(personas, make_mailbox(calendar=berlin))
    figures_of(ticket)
    url = f"/admin/tickets/businesscalendar/{berlin.pk}/change/"
    form = {"name": "Berlin", "timezone": "Europe/Berlin", "holidays": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "hours": '{"mon": [["10:00", "17:00"]]}'}, follow=True)
    assert "are being recomputed in the background" in response.content.decode()
    assert _business_frt(ticket) == 1 * H
