"""The ticket page's activity rows, filled in Python (helpdesk.html).

As a template loop each event cost three filters and two date formats. This tag gives
out the same markup, whitespace included (tests/tickets/test_thread_rows.py keeps the
loop it replaced and compares both on every kind of event), with every value escaped by
html_fill. (The conversation's rows were filled the same way on the perf branch; the
composer, the widget and the courtesy calls changed that loop meanwhile, so it stays a
template until the Python rows catch up.)
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import get_language, gettext

from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets.models import TicketEvent
from tickets.templatetags.tandem import _shown, event_actor, event_summary

register = template.Library()

_EVENT = (
    '\n        <li><span class="event-who">{who}</span> {summary} <time class="muted small"'
    ' datetime="{at_iso}" title="{at}">{at_ago}</time></li>\n        '
)
# The empty list's item in each language, built once per process and language.
_NO_EVENTS: dict[str, SafeString] = {}


def _no_events() -> SafeString:
    language = get_language() or ""
    found = _NO_EVENTS.get(language)
    if found is None:
        found = _NO_EVENTS[language] = format_html(
            '<li class="muted">{}</li>', gettext("No history yet.")
        )
    return found


@register.simple_tag
def event_rows(events: list[TicketEvent]) -> SafeString:
    """The activity panel's list items, newest first as given."""
    if not events:
        return _no_events()
    return html_join(
        html_fill(
            _EVENT,
            who=event_actor(event),
            summary=event_summary(event),
            at_iso=template_localtime(event.at).isoformat(),
            at=_shown(event.at),
            at_ago=ago(event.at),
        )
        for event in events
    )
