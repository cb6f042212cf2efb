"""Words for numbers and times that every screen and message uses the same way, in the
active language: numbers with its separators, durations with its units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext, pgettext


def ago(value: datetime | None) -> str:
    """Compact relative time: "5 minutes ago", "3 days ago" (one unit, not two)."""
    if value is None:
        return ""
    since = timesince(value, depth=1)
    if since.startswith("0"):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": since}


def whole(value: int | float) -> str:
    """A count with the locale's thousands separator: "1,234", "1.234", "1 234"."""
    return number_format(value, force_grouping=True)


def decimal(value: float, places: int, *, sign: bool = False) -> str:
    """A number rounded to `places` as Python's format rounds it, written the locale's way
    ("12.5", "12,5"); `sign` writes "+" before a positive number."""
    text = number_format(Decimal(f"{value:.{places}f}"), places, force_grouping=True)
    return f"+{text}" if sign and not text.startswith("-") else text


def duration(seconds: float | None) -> str:
    """Seconds for people: "45 s", "12 min", "3 h 05 min", "2 d 4 h" in English."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return pgettext("duration", "%(seconds)s s") % {"seconds": f"{seconds:.0f}"}
    minutes = seconds / 60
    if minutes < 60:
        return pgettext("duration", "%(minutes)s min") % {"minutes": f"{minutes:.0f}"}
    hours, minutes = divmod(round(minutes), 60)
    if hours < 48:
        text = pgettext("duration", "%(hours)s h %(minutes)s min")
        return text % {"hours": hours, "minutes": f"{minutes:02d}"}
    days, hours = divmod(hours, 24)
    return pgettext("duration", "%(days)s d %(hours)s h") % {"days": whole(days), "hours": hours}
