"""The rows' "… ago" (inbox rows, the ticket page's activity and deliveries) is what
helpdesk.humanize.ago says, worked out without timesince."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.timesince import timesince

from tickets.templatetags.tandem import _row_ago


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_a_rows_relative_time_is_what_ago_says(zone: str) -> None:
    """The rows' "… ago" (worked out without timesince) against
    helpdesk.humanize.ago's words, at every unit's edges and across months and years."""
    now = timezone.now()
    seconds = [0, 1, 59, 60, 61, 3599, 3600, 3601, 86399, 86400, 86401, 6 * 86400 + 86399]
    seconds += [7 * 86400, 13 * 86400, 14 * 86400, 27 * 86400 + 86399, 28 * 86400, 29 * 86400]
    seconds += [31 * 86400, 59 * 86400, 364 * 86400, 366 * 86400, 800 * 86400, -30]
    # Past four weeks, calendar months and years: every 7 hours 13 minutes over 3 years,
    # from several "now"s (month ends, a leap day, the turn of a year).
    seconds += list(range(28 * 86400, 3 * 366 * 86400, 7 * 3600 + 13 * 60))
    nows = [now] + [
        datetime(*when, tzinfo=UTC)
        for when in (
            (2028, 2, 29, 23, 59),
            (2027, 1, 1, 0, 0, 30),
            (2026, 3, 31, 12),
            (2026, 12, 1),
        )
    ]
    with timezone.override(zone):
        for now in nows:
            for delta in seconds:
                value = now - timedelta(seconds=delta, microseconds=250)
                since = timesince(value, now, depth=1)
                expected = "just now" if since.startswith("0") else f"{since} ago"
                assert _row_ago(value, now, "en") == expected, (now, delta)
