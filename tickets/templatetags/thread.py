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
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets.models import TicketEvent
from tickets.templatetags.tandem import _shown, event_actor, event_summary

register = template.Library()

_EVENT = (
    '\n        <li><span class="event-who">{who}</span> {summary} <time class="muted small"'
    ' datetime="{at_iso}" title="{at}">{at_ago}</time></li>\n        '
)
_NO_EVENTS = SafeString('<li class="muted">No history yet.</li>')


@register.simple_tag
def event_rows(events: list[TicketEvent]) -> SafeString:
    """The activity panel's list items, newest first as given."""
    if not events:
        return _NO_EVENTS
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
