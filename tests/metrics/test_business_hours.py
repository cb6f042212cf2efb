"""Business seconds and business-time addition, computed by hand for each case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_customer, make_mailbox, make_ticket
from tickets.business_hours import (
    CalendarError,
    add_business_seconds,
    business_seconds,
    compile_calendar,
)
from tickets.calendars import calendar_for_ticket
from tickets.models import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = 3600
WEEKDAYS_9_17 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def calendar(
    zone: str = "Europe/Berlin", hours: dict | None = None, holidays=()
) -> BusinessCalendar:
    return BusinessCalendar(
        name=f"cal-{zone}",
        timezone=zone,
        hours=WEEKDAYS_9_17 if hours is None else hours,
        holidays=list(holidays),
    )


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


class TestBusinessSeconds:
    def test_inside_one_working_day(self) -> None:
        # Monday 2026-03-02, 10:00 to 12:30 Berlin: all inside 09-17.
        assert (
            business_seconds(calendar(), at(BERLIN, 2026, 3, 2, 10), at(BERLIN, 2026, 3, 2, 12, 30))
            == 2.5 * H
        )

    def test_clipped_to_working_hours(self) -> None:
        # 07:00 to 19:00 on a Monday counts 09:00-17:00 only.
        assert (
            business_seconds(calendar(), at(BERLIN, 2026, 3, 2, 7), at(BERLIN, 2026, 3, 2, 19))
            == 8 * H
        )

    def test_end_before_start_is_zero(self) -> None:
        assert (
            business_seconds(calendar(), at(BERLIN, 2026, 3, 2, 12), at(BERLIN, 2026, 3, 2, 10))
            == 0
        )

    def test_weekend_counts_nothing(self) -> None:
        # Friday 16:00 to Monday 10:00: 1 h Friday + 1 h Monday.
        assert (
            business_seconds(calendar(), at(BERLIN, 2026, 3, 6, 16), at(BERLIN, 2026, 3, 9, 10))
            == 2 * H
        )

    def test_several_intervals_a_day(self) -> None:
        hours = {"tue": [["13:00", "17:00"], ["09:00", "12:00"]]}
        # Tuesday 10:00 to 14:00: 10-12 and 13-14.
        assert (
            business_seconds(
                calendar(hours=hours), at(BERLIN, 2026, 3, 3, 10), at(BERLIN, 2026, 3, 3, 14)
            )
            == 3 * H
        )

    def test_overlapping_intervals_are_merged(self) -> None:
        hours = {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}
        assert (
            business_seconds(
                calendar(hours=hours), at(BERLIN, 2026, 3, 2, 0), at(BERLIN, 2026, 3, 3, 0)
            )
            == 8 * H
        )

    def test_holiday_removes_the_whole_local_day(self) -> None:
        cal = calendar(holidays=[date(2026, 12, 24)])
        # Wed 23 Dec 16:00 to Fri 25 Dec 10:00: 1 h Wednesday, Thursday is a holiday, 1 h Friday.
        assert (
            business_seconds(cal, at(BERLIN, 2026, 12, 23, 16), at(BERLIN, 2026, 12, 25, 10))
            == 2 * H
        )

    def test_holiday_is_a_local_day_not_a_utc_day(self) -> None:
        cal = calendar(
            "America/New_York",
            hours={
                d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
            holidays=[date(2026, 7, 3)],
        )
        # 3 July local is 04:00 UTC on the 3rd to 04:00 UTC on the 4th.
        start = datetime(2026, 7, 3, 0, tzinfo=UTC)
        end = datetime(2026, 7, 4, 12, tzinfo=UTC)
        assert business_seconds(cal, start, end) == 4 * H + 8 * H

    def test_24_00_end_and_midnight_crossing(self) -> None:
        hours = {"mon": [["22:00", "24:00"]], "tue": [["00:00", "02:00"]]}
        assert (
            business_seconds(
                calendar(hours=hours), at(BERLIN, 2026, 3, 2, 23), at(BERLIN, 2026, 3, 3, 1)
            )
            == 2 * H
        )

    def test_microseconds_are_kept(self) -> None:
        start = at(BERLIN, 2026, 3, 2, 10)
        assert (
            business_seconds(calendar(), start, start + timedelta(seconds=1, microseconds=250))
            == 1.000250
        )

    def test_no_calendar_is_around_the_clock(self) -> None:
        start = datetime(2026, 3, 28, 12, tzinfo=UTC)
        assert business_seconds(None, start, start + timedelta(days=3)) == 72 * H

    def test_empty_hours_mean_unrestricted_but_holidays_apply(self) -> None:
        cal = calendar("UTC", hours={}, holidays=[date(2026, 3, 3)])
        start = datetime(2026, 3, 2, 0, tzinfo=UTC)
        assert business_seconds(cal, start, start + timedelta(days=3)) == 48 * H


class TestDaylightSaving:
    def test_berlin_week_with_spring_forward(self) -> None:
        # Clocks jump 02:00 -> 03:00 on Sunday 29 March 2026. Friday 12:00 CET to Monday
        # 12:00 CEST is 71 wall-clock hours but 8 business hours (Fri 5 h, Mon 3 h).
        start, end = at(BERLIN, 2026, 3, 27, 12), at(BERLIN, 2026, 3, 30, 12)
        assert (end - start) != end.astimezone(UTC) - start.astimezone(UTC)
        assert business_seconds(calendar(), start, end) == 8 * H

    def test_berlin_spring_forward_day_has_23_hours(self) -> None:
        cal = calendar(hours={"sun": [["00:00", "24:00"]]})
        assert business_seconds(cal, at(BERLIN, 2026, 3, 28), at(BERLIN, 2026, 3, 30)) == 23 * H

    def test_berlin_fall_back_day_has_25_hours(self) -> None:
        cal = calendar(hours={"sun": [["00:00", "24:00"]]})
        assert business_seconds(cal, at(BERLIN, 2026, 10, 24), at(BERLIN, 2026, 10, 26)) == 25 * H

    def test_new_york_night_shift_across_spring_forward(self) -> None:
        # 8 March 2026: 02:00 EST -> 03:00 EDT. 00:00-04:00 wall time is 3 real hours.
        cal = calendar("America/New_York", hours={"sun": [["00:00", "04:00"]]})
        assert business_seconds(cal, at(NEW_YORK, 2026, 3, 7), at(NEW_YORK, 2026, 3, 9)) == 3 * H

    def test_new_york_interval_starting_in_the_gap_starts_at_the_jump(self) -> None:
        # 02:30 never happens; the first instant reading 02:30 or later is 03:00 EDT.
        cal = calendar("America/New_York", hours={"sun": [["02:30", "05:00"]]})
        assert business_seconds(cal, at(NEW_YORK, 2026, 3, 7), at(NEW_YORK, 2026, 3, 9)) == 2 * H

    def test_new_york_fall_back_interval(self) -> None:
        # 1 November 2026: 02:00 EDT -> 01:00 EST. 00:00-03:00 wall time is 4 real hours.
        cal = calendar("America/New_York", hours={"sun": [["00:00", "03:00"]]})
        assert business_seconds(cal, at(NEW_YORK, 2026, 10, 31), at(NEW_YORK, 2026, 11, 2)) == 4 * H

    def test_new_york_week_of_fall_back_office_hours(self) -> None:
        # Fri 30 Oct 12:00 EDT to Mon 2 Nov 12:00 EST: 5 h + 3 h.
        cal = calendar("America/New_York")
        assert (
            business_seconds(cal, at(NEW_YORK, 2026, 10, 30, 12), at(NEW_YORK, 2026, 11, 2, 12))
            == 8 * H
        )


class TestLongSpans:
    def test_a_year_of_office_hours(self) -> None:
        # 2026 has 261 weekdays; two holidays fall on weekdays.
        cal = calendar(holidays=[date(2026, 12, 25), date(2026, 1, 1), date(2026, 12, 26)])
        start, end = at(BERLIN, 2026, 1, 1), at(BERLIN, 2027, 1, 1)
        assert business_seconds(cal, start, end) == (261 - 2) * 8 * H

    def test_spans_are_additive(self) -> None:
        cal = calendar("America/New_York")
        a, b, c = (
            at(NEW_YORK, 2025, 11, 3, 10),
            at(NEW_YORK, 2026, 3, 9, 15),
            at(NEW_YORK, 2026, 7, 1, 9, 30),
        )
        assert business_seconds(cal, a, c) == business_seconds(cal, a, b) + business_seconds(
            cal, b, c
        )

    def test_earlier_history_extends_cached_sums(self) -> None:
        cal = calendar("Europe/Berlin", holidays=[date(2021, 5, 5)])
        late = business_seconds(cal, at(BERLIN, 2026, 1, 5), at(BERLIN, 2026, 1, 12))
        early = business_seconds(cal, at(BERLIN, 2021, 5, 3), at(BERLIN, 2021, 5, 10))
        assert (late, early) == (40 * H, 32 * H)
        assert business_seconds(cal, at(BERLIN, 2021, 5, 3), at(BERLIN, 2026, 1, 12)) > 0


class TestAddBusinessSeconds:
    def test_friday_afternoon_rolls_to_monday(self) -> None:
        due = add_business_seconds(calendar(), at(BERLIN, 2026, 3, 6, 16, 30), H)
        assert due == at(BERLIN, 2026, 3, 9, 9, 30)
        assert due.tzinfo == UTC

    def test_outside_hours_starts_at_next_opening(self) -> None:
        assert add_business_seconds(calendar(), at(BERLIN, 2026, 3, 2, 7), 60) == at(
            BERLIN, 2026, 3, 2, 9, 1
        )

    def test_zero_returns_start(self) -> None:
        start = at(BERLIN, 2026, 3, 7, 7)
        assert add_business_seconds(calendar(), start, 0) == start

    def test_exact_end_of_interval(self) -> None:
        hours = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
        assert add_business_seconds(calendar(hours=hours), at(BERLIN, 2026, 3, 2, 9), 3 * H) == at(
            BERLIN, 2026, 3, 2, 12
        )
        assert add_business_seconds(
            calendar(hours=hours), at(BERLIN, 2026, 3, 2, 9), 3 * H + 1
        ) == at(BERLIN, 2026, 3, 2, 13, 0, 1)

    def test_across_dst_and_holidays(self) -> None:
        cal = calendar(holidays=[date(2026, 3, 30)])
        # Fri 27 March 16:00 CET + 2 h: 1 h Friday, Monday is a holiday, 1 h Tuesday (CEST).
        assert add_business_seconds(cal, at(BERLIN, 2026, 3, 27, 16), 2 * H) == at(
            BERLIN, 2026, 3, 31, 10
        )

    def test_months_ahead(self) -> None:
        start = at(BERLIN, 2026, 1, 5, 9)
        due = add_business_seconds(calendar(), start, 100 * 8 * H)
        assert due == at(BERLIN, 2026, 5, 22, 17)  # 100 weekdays later, end of day
        assert business_seconds(calendar(), start, due) == 100 * 8 * H

    def test_negative_is_refused(self) -> None:
        with pytest.raises(ValueError):
            add_business_seconds(calendar(), at(BERLIN, 2026, 3, 2, 9), -1)

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError):
            business_seconds(calendar(), datetime(2026, 3, 2, 9), at(BERLIN, 2026, 3, 2, 10))  # noqa: DTZ001


class TestValidation:
    @pytest.mark.parametrize(
        "hours",
        [
            {"mon": [["17:00", "09:00"]]},
            {"mon": [["9am", "17:00"]]},
            {"mon": [["09:00", "24:30"]]},
            {"monday": [["09:00", "17:00"]]},
            {"mon": [["09:00"]]},
            ["09:00", "17:00"],
        ],
    )
    def test_bad_hours(self, hours) -> None:
        with pytest.raises(CalendarError):
            compile_calendar(calendar(hours=hours))

    def test_bad_zone(self) -> None:
        with pytest.raises(CalendarError):
            compile_calendar(calendar("Mars/Olympus"))


def _brute_force(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Minute by minute: is the local wall clock inside an interval of a working day?"""
    zone = ZoneInfo(cal.timezone)
    total = 0
    minute = start
    while minute < end:
        local = minute.astimezone(zone)
        key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
        wall = local.strftime("%H:%M")
        if local.date() not in cal.holidays and any(
            a <= wall < b for a, b in cal.hours.get(key, [])
        ):
            total += 60
        minute += timedelta(minutes=1)
    return total


# Intervals avoid 00:00-04:00 so no boundary sits in a DST gap or overlap, where a
# minute walk over wall times has no single right answer; spans still cross DST changes.
_interval = st.tuples(st.integers(8, 22), st.integers(8, 22)).filter(lambda p: p[0] < p[1])


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]),
    days=st.dictionaries(
        st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        st.lists(_interval, min_size=1, max_size=2),
        min_size=1,
    ),
    start_minute=st.integers(0, 60 * 24 * 400),
    length_minutes=st.integers(0, 60 * 24 * 9),
)
def test_matches_a_minute_by_minute_walk(zone, days, start_minute, length_minutes) -> None:
    hours = {day: [[f"{a:02d}:00", f"{b:02d}:30"] for a, b in pairs] for day, pairs in days.items()}
    cal = calendar(zone, hours=hours, holidays=[date(2026, 3, 30), date(2026, 11, 2)])
    start = datetime(2025, 10, 1, tzinfo=UTC) + timedelta(minutes=start_minute)
    end = start + timedelta(minutes=length_minutes)
    assert business_seconds(cal, start, end) == _brute_force(cal, start, end)
    if business_seconds(cal, start, end):
        assert add_business_seconds(cal, start, business_seconds(cal, start, end)) <= end


@pytest.mark.django_db
def test_calendar_for_ticket(personas) -> None:
    ticket = make_ticket(personas.mailbox_a, make_customer())
    assert calendar_for_ticket(ticket) is None
    default = BusinessCalendar.objects.create(name="Default", hours=WEEKDAYS_9_17, is_default=True)
    assert calendar_for_ticket(ticket) == default
    own = BusinessCalendar.objects.create(name="Berlin", timezone="Europe/Berlin")
    mailbox = make_mailbox(calendar=own)
    other = make_ticket(mailbox, make_customer())
    assert calendar_for_ticket(other) == own


@pytest.mark.django_db
def test_the_admin_refuses_a_calendar_the_arithmetic_cannot_read(personas) -> None:
    """A typo saved here would fail the figures and SLA due times of its tickets."""
    client = Client()
    client.force_login(personas.admin)
    url = "/admin/tickets/businesscalendar/add/"
    form = {"name": "Office", "timezone": "Berlin", "hours": '{"monday": [["09:00", "17:00"]]}'}
    response = client.post(url, {**form, "holidays": ""})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["timezone"] == ["Unknown time zone 'Berlin'."]
    assert errors["hours"] == ["Unknown weekday keys: monday."]
    assert not BusinessCalendar.objects.exists()
    good = {**form, "timezone": "Europe/Berlin", "hours": '{"mon": [["09:00", "17:00"]]}'}
    assert client.post(url, {**good, "holidays": "2026-12-25"}).status_code == 302
    saved = BusinessCalendar.objects.get()
    assert (saved.timezone, saved.hours) == ("Europe/Berlin", {"mon": [["09:00", "17:00"]]})
