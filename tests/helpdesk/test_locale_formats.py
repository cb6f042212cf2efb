"""Dates and numbers the agent app writes follow the reader's language (docs/i18n.md):
the shared helpers of helpdesk.humanize and the template filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone, translation

from helpdesk import humanize
from tickets.models import EventKind, TicketEvent
from tickets.templatetags.tandem import event_summary


def test_numbers_and_durations_in_each_language() -> None:
    expected = {
        "en": ("1,234", "12.5", "+0.40", "3 h 05 min", "2 d 7 h"),
        "de": ("1.234", "12,5", "+0,40", "3 Std. 05 Min.", "2 T. 7 Std."),
        "fr": ("1\xa0234", "12,5", "+0,40", "3 h 05 min", "2 j 7 h"),
        "es": ("1\xa0234", "12,5", "+0,40", "3 h 05 min", "2 d 7 h"),
    }
    for language, written in expected.items():
        with translation.override(language):
            assert (
                humanize.whole(1234),
                humanize.decimal(12.46, 1),
                humanize.decimal(0.4, 2, sign=True),
                humanize.duration(3 * 3600 + 5 * 60),
                humanize.duration(200000),
            ) == written, language


def test_rounding_is_pythons_not_truncation() -> None:
    """Django's number_format truncates a float's decimals; the figures round as before."""
    with translation.override("de"):
        assert humanize.decimal(2.96, 1) == "3,0"
        assert humanize.decimal(-0.456, 2) == "-0,46"


def test_relative_time_in_german() -> None:
    with translation.override("de"):
        assert humanize.ago(timezone.now()) == "gerade eben"
        assert humanize.ago(timezone.now() - timedelta(days=3)) == "3\xa0Tage her"


def test_a_snooze_in_the_activity_names_its_date_the_readers_way() -> None:
    event = TicketEvent(
        kind=EventKind.SNOOZE, after=datetime(2026, 3, 9, 14, 30, tzinfo=UTC).isoformat()
    )
    with translation.override("de"), timezone.override("UTC"):
        assert "9. März 2026 14:30" in event_summary(event)
    with translation.override("en"), timezone.override("UTC"):
        assert "March 9, 2026, 2:30 p.m." in event_summary(event)
