"""Business time: seconds that fall inside a calendar's working hours.

A calendar (tickets.models.BusinessCalendar) has a time zone, working intervals per
weekday in local wall time (several a day, "HH:MM" or "HH:MM:SS", "24:00" for the end of
the day) and holiday dates; a holiday removes that whole local day. Business seconds
between a and b are the total overlap of [a, b] with the working intervals.

Exactness across daylight-saving changes comes from zoneinfo alone: each working
interval of a local date is turned into two UTC instants (`datetime.combine(...,
tzinfo=zone)` then `astimezone(UTC)`), and durations are always differences of UTC
instants, never of wall times. A boundary is the first instant at which the local clock
reads that wall time or later: inside a spring-forward gap that is the moment the clocks
jump, and an ambiguous fall-back wall time means its first occurrence (fold=0).

Local days partition the time line, and the intervals of a day lie inside it, so the
business seconds between a and b are: the part of a's day after a, plus every whole day
in between, plus the part of b's day before b. Whole days come from a per-calendar
prefix sum over dates, built lazily and kept for the life of the compiled calendar, so a
span of months costs two partial days and two lookups, and a full recompute over a
million tickets reuses the same sums.

Choices (also in docs/metrics.md):
- No calendar at all (no mailbox calendar and no default one): business time is
  calendar time, 24x7 with no holidays (`ALWAYS_OPEN`).
- A calendar with no working hours configured counts as open around the clock on its
  non-holiday days: an empty `hours` is read as "not restricted", and it keeps
  `add_business_seconds` finite for SLA due times.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from tickets.models import BusinessCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?$")
_ONE_SECOND_US = 1_000_000


class CalendarError(ValueError):
    """A calendar whose zone, hours or holidays cannot be read."""


def _parse_time(value: Any) -> int:
    """ "HH:MM[:SS]" -> seconds after local midnight (24:00 allowed as an end)."""
    match = _TIME.match(str(value).strip())
    if not match:
        raise CalendarError(f"{value!r} is not a time like 09:00 or 17:30.")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    total = hours * 3600 + minutes * 60 + seconds
    if total > 86400:
        raise CalendarError(f"{value!r} is after 24:00.")
    return total


def parse_hours(hours: Any) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The weekly schedule as seven sorted, merged lists of (start, end) seconds of day."""
    if hours in (None, ""):
        hours = {}
    if not isinstance(hours, dict):
        raise CalendarError("Working hours must map weekdays (mon..sun) to intervals.")
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise CalendarError(f"Unknown weekday keys: {', '.join(sorted(unknown))}.")
    week: list[tuple[tuple[int, int], ...]] = []
    for day in WEEKDAYS:
        intervals: list[tuple[int, int]] = []
        for pair in hours.get(day) or []:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise CalendarError(f"{day}: each interval is a pair like ['09:00', '17:00'].")
            start, end = _parse_time(pair[0]), _parse_time(pair[1])
            if start >= end:
                raise CalendarError(f"{day}: {pair[0]}-{pair[1]} ends before it starts.")
            intervals.append((start, end))
        intervals.sort()
        merged: list[tuple[int, int]] = []
        for start, end in intervals:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        week.append(tuple(merged))
    if not any(week):
        # Read as "not restricted": see the module docstring.
        week = [((0, 86400),)] * 7
    return tuple(week)


def read_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"Unknown time zone {name!r}.") from exc


@dataclass(eq=False)
class CompiledCalendar:
    """A calendar ready for arithmetic. Cached by content, so an edited calendar recompiles."""

    zone: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]
    # Prefix sums of whole-day business seconds (in microseconds, exact integers):
    # _cumulative[i] = business microseconds of the days _base .. _base + i - 1.
    _base: int = 0
    _cumulative: list[int] = field(default_factory=list)
    _days: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date as UTC instants."""
        cached = self._days.get(day)
        if cached is None:
            cached = []
            if day not in self.holidays:
                for start, end in self.week[day.weekday()]:
                    cached.append((self._instant(day, start), self._instant(day, end)))
            self._days[day] = cached
        return cached

    def _instant(self, day: date, second_of_day: int) -> datetime:
        if second_of_day >= 86400:
            day, second_of_day = day + timedelta(days=1), second_of_day - 86400
        wall = time(second_of_day // 3600, second_of_day // 60 % 60, second_of_day % 60)
        local = datetime.combine(day, wall, tzinfo=self.zone)
        instant = local.astimezone(UTC)
        naive = local.replace(tzinfo=None)
        if instant.astimezone(self.zone).replace(tzinfo=None) == naive:
            return instant
        # The wall time falls in a spring-forward gap: the interval boundary is the first
        # instant whose wall clock reads `wall` or later, i.e. the moment the clocks jump.
        # fold=1 maps the gap time with the later offset, which lands before the jump.
        low = int(local.replace(fold=1).astimezone(UTC).timestamp())
        high = int(instant.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            probe = datetime.fromtimestamp(middle, tz=self.zone).replace(tzinfo=None)
            if probe >= naive:
                high = middle
            else:
                low = middle
        return datetime.fromtimestamp(high, tz=UTC)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _day_us(self, day: date) -> int:
        return sum(_us(end - start) for start, end in self.intervals_on(day))

    def _ensure(self, first: int, last: int) -> None:
        """Extend the prefix sums to cover ordinals first .. last + 1."""
        if not self._cumulative:
            self._base = first
            self._cumulative = [0]
        if first < self._base:
            # Rare (history older than anything seen so far): rebuild from the new base.
            extra = [self._day_us(date.fromordinal(o)) for o in range(first, self._base)]
            shift = sum(extra)
            head = [0]
            for value in extra[:-1]:
                head.append(head[-1] + value)
            self._cumulative = head + [c + shift for c in self._cumulative]
            self._base = first
        top = self._base + len(self._cumulative) - 1
        while top <= last:
            self._cumulative.append(self._cumulative[-1] + self._day_us(date.fromordinal(top)))
            top += 1

    def whole_days_us(self, first: date, last: date) -> int:
        """Business microseconds of the local days first .. last inclusive."""
        if last < first:
            return 0
        self._ensure(first.toordinal(), last.toordinal())
        return (
            self._cumulative[last.toordinal() + 1 - self._base]
            - self._cumulative[first.toordinal() - self._base]
        )

    def overlap_us(self, day: date, start: datetime, end: datetime) -> int:
        """Business microseconds of one local day that fall inside [start, end]."""
        total = 0
        for begin, finish in self.intervals_on(day):
            low, high = max(begin, start), min(finish, end)
            if high > low:
                total += _us(high - low)
        return total

    def business_us(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        first, last = self.local_date(start), self.local_date(end)
        if first == last:
            return self.overlap_us(first, start, end)
        day_after, day_before = first + timedelta(days=1), last - timedelta(days=1)
        return (
            self.overlap_us(first, start, end)
            + self.whole_days_us(day_after, day_before)
            + self.overlap_us(last, start, end)
        )

    def add_us(self, start: datetime, amount: int) -> datetime:
        """The earliest instant t with business_us(start, t) == amount."""
        if amount <= 0:
            return start
        day = self.local_date(start)
        # The rest of the first day, interval by interval.
        for begin, finish in self.intervals_on(day):
            low = max(begin, start)
            if finish <= low:
                continue
            available = _us(finish - low)
            if amount <= available:
                return low + timedelta(microseconds=amount)
            amount -= available
        # Whole days: binary search in the prefix sums, growing them a year at a time.
        first = day.toordinal() + 1
        self._ensure(first, first)
        target = self._cumulative[first - self._base] + amount
        while self._cumulative[-1] < target:
            self._ensure(first, self._base + len(self._cumulative) + 365)
        # The day whose end first reaches the target holds the answer.
        index = bisect.bisect_left(self._cumulative, target, lo=first - self._base + 1)
        target_day = date.fromordinal(self._base + index - 1)
        remaining = target - self._cumulative[index - 1]
        for begin, finish in self.intervals_on(target_day):
            available = _us(finish - begin)
            if remaining <= available:
                return begin + timedelta(microseconds=remaining)
            remaining -= available
        raise AssertionError("prefix sums and day intervals disagree")  # pragma: no cover


def _us(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * _ONE_SECOND_US + delta.microseconds


@lru_cache(maxsize=128)
def _compile(zone: str, hours_json: str, holidays: tuple[date, ...]) -> CompiledCalendar:
    return CompiledCalendar(
        zone=read_zone(zone), week=parse_hours(json.loads(hours_json)), holidays=frozenset(holidays)
    )


ALWAYS_OPEN_KEY = ("UTC", "{}", ())


def compile_calendar(calendar: BusinessCalendar | None) -> CompiledCalendar:
    """The compiled form of a calendar; None means 24x7 (see the module docstring)."""
    if calendar is None:
        return _compile(*ALWAYS_OPEN_KEY)
    holidays = tuple(
        sorted(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in calendar.holidays)
    )
    return _compile(calendar.timezone, json.dumps(calendar.hours, sort_keys=True), holidays)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


def business_seconds(calendar: BusinessCalendar | None, start: datetime, end: datetime) -> float:
    """Seconds of [start, end] inside the calendar's working hours (0 if end <= start)."""
    compiled = compile_calendar(calendar)
    amount = compiled.business_us(_aware(start, "start"), _aware(end, "end"))
    return amount / _ONE_SECOND_US


def add_business_seconds(
    calendar: BusinessCalendar | None, start: datetime, seconds: float
) -> datetime:
    """The earliest instant by which `seconds` business seconds have passed since `start`.

    Used for SLA due times: 3600 from Friday 16:30 on a 09:00-17:00 calendar is Monday
    09:30. Zero seconds returns `start` itself. The answer is in UTC.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    compiled = compile_calendar(calendar)
    result = compiled.add_us(_aware(start, "start"), round(seconds * _ONE_SECOND_US))
    return result.astimezone(UTC)
