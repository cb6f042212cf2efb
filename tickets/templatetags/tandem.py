"""Template helpers shared by the agent screens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.timesince import timesince

from tickets.models import (
    ActorKind,
    Direction,
    EventKind,
    Kind,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)

register = template.Library()

_LABELS: dict[str, dict[str, str]] = {
    EventKind.STATUS: dict(Status.choices),
    EventKind.PRIORITY: dict(Priority.choices),
    EventKind.KIND: dict(Kind.choices),
}


@register.simple_tag
def optional_url(names: str, *args: Any) -> str:
    """The URL of the first of `names` ("a:b|c:d") that resolves, or "" if none does.

    Lets the shared layout link to the help center, dashboards or quarantine without
    breaking while the apps that provide them are absent.
    """
    for name in names.split("|"):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def _value(kind: str, value: Any) -> str:
    if value in (None, "", []):
        return "nothing"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return _LABELS.get(kind, {}).get(value, str(value))


@register.filter
def event_actor(event: TicketEvent) -> str:
    if event.actor is not None:
        return event.actor.display_name
    if event.actor_kind == ActorKind.RULE and event.data.get("rule"):
        return f"Rule “{event.data['rule']}”"
    return ActorKind(event.actor_kind).label if event.actor_kind in ActorKind.values else "System"


@register.filter
def event_summary(event: TicketEvent) -> str:
    """One readable line per event, e.g. "changed status from New to Open"."""
    kind = event.kind
    if kind == EventKind.CREATED:
        return "created the ticket"
    if kind == EventKind.MESSAGE:
        return {
            Direction.INBOUND: "received a customer message",
            Direction.OUTBOUND: "replied",
            Direction.NOTE: "added an internal note",
        }.get(event.after, "added a message")
    if kind == EventKind.ASSIGNEE:
        names = getattr(event, "names", {})
        return (
            f"assigned to {names.get(event.after, event.after)}"
            if event.after
            else "unassigned the ticket"
        )
    if kind in (
        EventKind.STATUS,
        EventKind.PRIORITY,
        EventKind.KIND,
        EventKind.TEAM,
        EventKind.TAGS,
        EventKind.SUBJECT,
        EventKind.MAILBOX,
        EventKind.CUSTOMER,
    ):
        label = EventKind(kind).label.lower()
        return f"changed {label} from {_value(kind, event.before)} to {_value(kind, event.after)}"
    if kind == EventKind.MERGED:
        return f"merged into #{event.after}" if event.after else "merged"
    if kind == EventKind.SLA and event.after == "breached":
        target = "first response" if event.data.get("target") == "first_response" else "resolution"
        return f"SLA breached: {target} overdue"
    if kind == EventKind.LINKED:
        return f"linked follow-up #{event.after}"
    if kind == EventKind.SURVEY and isinstance(event.after, dict):
        # metrics.surveys records {"csat": 4, "ces": 6}.
        answers = ", ".join(f"{name.upper()} {score}" for name, score in event.after.items())
        return f"answered the survey: {answers}"
    label = EventKind(kind).label if kind in EventKind.values else kind
    return f"{label}: {_value(kind, event.after)}" if event.after not in (None, "") else label


@register.filter
def initials(name: str) -> str:
    parts = [p for p in str(name).replace("@", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.filter
def ago(value: datetime | None) -> str:
    """Compact relative time: "5 minutes ago", "3 days ago" (one unit, not two)."""
    if value is None:
        return ""
    since = timesince(value, depth=1)
    return "just now" if since.startswith("0") else f"{since} ago"


@register.filter
def sender(message: Message, ticket: Ticket) -> str:
    """Who wrote a message, as people know them: the agent, or the customer's name."""
    if message.author is not None:
        return message.author.display_name
    if message.direction != Direction.INBOUND:
        return "Tandem"
    if message.from_name:
        return message.from_name
    if not message.from_address or message.from_address == ticket.customer.email:
        return ticket.customer.name or ticket.customer.email
    return message.from_address
