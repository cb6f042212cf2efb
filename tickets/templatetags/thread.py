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
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import get_language, gettext

from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets.models import TicketEvent
from tickets.templatetags.tandem import _shown, event_actor, event_summary

register = template.Library()

# Numbers no URL holds, reversed in their place: the rest of the URL is the pattern's.
_MARKS = (7_919_191_917, 7_929_292_927, 7_939_393_937)
# (script prefix, name, number of arguments) -> the URL's pieces between the arguments.
_URL_PIECES: dict[tuple[str, str, int], list[str]] = {}


@register.simple_tag
def fast_url(name: str, *args: int) -> str:
    """`{% url name args %}` for whole-number arguments (a ticket's, a message's), reversed
    once per process and pattern: the ticket page names about 35 URLs a view, each a
    reverse() of some microseconds. Other arguments go through reverse() as before."""
    if len(args) > len(_MARKS) or not all(type(arg) is int for arg in args):
        return reverse(name, args=args)
    key = (get_script_prefix(), name, len(args))
    pieces = _URL_PIECES.get(key)
    if pieces is None:
        url = reverse(name, args=_MARKS[: len(args)])
        pieces = []
        for mark in _MARKS[: len(args)]:
            before, found, url = url.partition(str(mark))
            if not found:  # a pattern that does not show its argument as given
                return reverse(name, args=args)
            pieces.append(before)
        pieces.append(url)
        _URL_PIECES[key] = pieces
    out = [pieces[0]]
    for arg, piece in zip(args, pieces[1:], strict=True):
        out += (str(arg), piece)
    return "".join(out)


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
