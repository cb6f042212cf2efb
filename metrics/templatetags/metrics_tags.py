"""Survey answers on the agent's ticket page: `{% load metrics_tags %}`.

`{% ticket_surveys ticket viewer %}` shows the ticket's CSAT and CES answers;
`{% customer_surveys customer viewer %}` the customer's latest answers of any survey
that the viewer may see, NPS included, for the customer panel. On the ticket page both
are read in one query (`surveys.ticket_page_responses`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext

from helpdesk import humanize
from helpdesk.html import html_fill, html_join
from metrics import surveys
from metrics.models import score_tone
from tickets.models import Customer, Ticket, User

register = template.Library()


@register.inclusion_tag("metrics/_ticket_surveys.html")
def ticket_surveys(ticket: Ticket, viewer: User) -> dict[str, Any]:
    panels = surveys.ticket_page_responses(ticket, viewer)
    return {"responses": panels.ticket, "ticket": ticket}


@register.inclusion_tag("metrics/_customer_surveys.html", takes_context=True)
def customer_surveys(context: dict[str, Any], customer: Customer, viewer: User) -> dict[str, Any]:
    """The customer's answers that `viewer` may see (surveys.customer_responses)."""
    ticket = context.get("ticket")
    if isinstance(ticket, Ticket) and ticket.customer_id == customer.pk:
        # On the ticket page: read with the ticket's own panel, one query for both.
        responses = surveys.ticket_page_responses(ticket, viewer).customer
    else:
        responses = surveys.customer_responses(customer, viewer)
    return {"responses": responses, "customer": customer}


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds for people: "45 s", "12 min", "3 h 05 min", "2 d 4 h" (helpdesk.humanize)."""
    return humanize.duration(seconds)


@register.filter
def whole(value: int | None) -> str:
    """A count with the active language's thousands separator ("1,234", "1.234")."""
    return "—" if value is None else humanize.whole(value)


@register.filter
def tone(response: Any) -> str:
    """A survey answer's badge class, by its score (not its kind): badge-score-good..."""
    return f"badge-score-{score_tone(response.kind, response.score)}"


@register.filter
def figure_value(value: float | None, unit: str) -> str:
    """A figure rounded for display in the active language's way (the API keeps it
    unrounded)."""
    if value is None:
        return "—"
    if unit == "seconds":
        return duration(value)
    if unit == "rate":
        return pgettext("percentage", "%(number)s %%") % {
            "number": humanize.decimal(value * 100, 1)
        }
    if unit == "score":
        return pgettext("percentage", "%(number)s %%") % {"number": humanize.decimal(value, 1)}
    if unit == "nps":
        return humanize.decimal(value, 0, sign=True)
    if unit == "mean":
        return humanize.decimal(value, 2)
    return humanize.whole(value)


@register.filter
def change(figure: Any) -> str:
    """A dashboard figure against the previous window, arrow first: "▲ 12 %" for a
    relative change, "▼ 3.1 pts" for a rate or score, "▲ 5" for NPS or a count from
    nothing (no percentage describes it); "" when either is missing."""
    now, before = figure.value, figure.previous
    if now is None or before is None:
        return ""
    if now == before:
        return gettext("no change")
    arrow = "▲" if now > before else "▼"
    if figure.unit in ("rate", "score"):
        points = (now - before) * (100 if figure.unit == "rate" else 1)
        text = gettext("%(points)s pts") % {"points": humanize.decimal(abs(points), 1)}
        return f"{arrow} {text}"
    if figure.unit == "nps":
        return f"{arrow} {humanize.decimal(abs(now - before), 0)}"
    if not before:
        return f"{arrow} {figure_value(abs(now), figure.unit)}" if figure.unit == "count" else ""
    relative = humanize.decimal(abs(now - before) / abs(before) * 100, 0)
    return f"{arrow} " + pgettext("percentage", "%(number)s %%") % {"number": relative}


@register.simple_tag
def drill(base: str, key: Any, figure: str, text: Any) -> SafeString:
    """A table's figure linked to the tickets behind it (the drill-down, `base` ending in
    "agent=" or "team="); plain on the row of tickets with no agent or team, which the
    drill-down's filters cannot name."""
    if key is None:
        return html_join([text])
    link = '<a href="{base}{key}&amp;figure={figure}">{text}</a>'
    return html_fill(link, base=base, key=key, figure=figure, text=text)
