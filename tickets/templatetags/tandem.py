"""Template helpers shared by the agent screens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, get_format, localize
from django.utils.safestring import SafeString
from django.utils.timezone import (  # type: ignore[attr-defined]  # template_localtime: not in the stubs
    get_current_timezone_name,
    template_localtime,
)
from django.utils.translation import get_language

from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets.channels import ROW_ICONS, channel_icon
from tickets.mail.imap import needing_attention, poll_status
from tickets.models import (
    ActorKind,
    Direction,
    EventKind,
    FieldDefinition,
    Kind,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from tickets.workflow.templatetags.workflow_tags import sla_badge

register = template.Library()

_LABELS: dict[str, dict[str, str]] = {
    EventKind.STATUS: dict(Status.choices),
    EventKind.PRIORITY: dict(Priority.choices),
    EventKind.KIND: dict(Kind.choices),
}
_STATUS_LABELS, _PRIORITY_LABELS = dict(Status.choices), dict(Priority.choices)


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


def _moved(event: TicketEvent) -> str:
    """ "3 messages": how many a merge or split moved (merges before the list said how many)."""
    messages = event.data.get("messages", 0)
    count = len(messages) if isinstance(messages, list) else int(messages)
    return f"{count} message" if count == 1 else f"{count} messages"


def _field_value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# tickets.services.courtesy's calls and their undoing, as the activity feed says them.
_COURTESY = {
    "thanks": "kept the ticket solved: the customer's reply only says thanks",
    "thanks_undone": "reopened a ticket kept solved after a thank-you",
    "newsletter": "marked it as a newsletter, out of Unassigned",
    "newsletter_undone": "said it is not a newsletter",
}


@register.filter
def event_summary(event: TicketEvent) -> str:
    """One readable line per event, e.g. "changed status from New to Open"."""
    kind = event.kind
    if kind == EventKind.CREATED:
        return "created the ticket"
    if kind == EventKind.MESSAGE:
        if event.after == Direction.INBOUND and event.actor_kind == ActorKind.CUSTOMER:
            return "wrote"
        if event.after == Direction.INBOUND and event.actor_kind == ActorKind.AGENT:
            return "recorded the customer's message"  # a ticket opened on their behalf
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
        EventKind.CC,
    ):
        label = EventKind(kind).label.lower()
        return f"changed {label} from {_value(kind, event.before)} to {_value(kind, event.after)}"
    if kind == EventKind.MERGED:
        if event.before:
            return f"merged #{event.before} into this ticket ({_moved(event)})"
        return f"merged into #{event.after} ({_moved(event)})" if event.after else "merged"
    if kind == EventKind.SPLIT:
        if event.before:
            return f"split this ticket from #{event.before} ({_moved(event)})"
        return f"split {_moved(event)} out into #{event.after}"
    if kind == EventKind.SNOOZE:
        until = parse_datetime(event.after) if isinstance(event.after, str) else None
        if until is None:
            return "ended the snooze"
        return f"snoozed until {date_format(timezone.localtime(until), 'DATETIME_FORMAT')}"
    if kind == EventKind.SLA and event.after == "breached":
        target = "first response" if event.data.get("target") == "first_response" else "resolution"
        return f"SLA breached: {target} overdue"
    if kind == EventKind.LINKED:
        return f"linked follow-up #{event.after}"
    if kind == EventKind.FIELDS and isinstance(event.after, dict):
        changed = ", ".join(
            f"{key} to {_field_value(value)}" if value not in (None, "", []) else f"cleared {key}"
            for key, value in event.after.items()
        )
        return f"set {changed}"
    if kind == EventKind.SURVEY and isinstance(event.after, dict):
        # metrics.surveys records {"csat": 4, "ces": 6}.
        answers = ", ".join(f"{name.upper()} {score}" for name, score in event.after.items())
        return f"answered the survey: {answers}"
    if kind == EventKind.COURTESY:
        return _COURTESY.get(str(event.after), "Mail that needs no one")
    label = EventKind(kind).label if kind in EventKind.values else kind
    return f"{label}: {_value(kind, event.after)}" if event.after not in (None, "") else label


@register.filter
def initials(name: str) -> str:
    parts = [p for p in str(name).replace("@", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


register.filter(ago)
register.filter(channel_icon)


@register.filter
def sender(message: Message, ticket: Ticket) -> str:
    """Who wrote a message, as people know them: the agent, or the customer's name."""
    return message.sender_name(ticket)


def _shown(value: datetime) -> str:
    """A date as `{{ value }}` prints it: in the current time zone and locale format."""
    return _shown_in(
        value, get_current_timezone_name(), get_language(), get_format("DATETIME_FORMAT")
    )


@lru_cache(maxsize=8192)
def _shown_in(value: datetime, zone: str, language: str | None, datetime_format: str) -> str:
    # Formatting a date with its month name and "a.m." looks up translations: ~60 us a
    # date, two or three per inbox row. The same tickets' dates come back page after
    # page; the zone, language and format they were shown in are part of the key.
    return str(localize(template_localtime(value)))


# One inbox row, as it would come out of a `{% for %}` over the tickets (the whitespace
# included; tests/tickets/test_views_inbox.py holds that template and compares). The inbox
# renders 50 of them: as a template loop that is ~1,000 variable nodes and 4 ms more CPU
# per page than filling this markup with helpdesk.html (see there), which escapes every
# value it is given.
_ROW = """
    <tr class="ticket-row status-{status}" data-href="{url}" data-number="{number}">
      <td class="col-check"><input type="checkbox" name="tickets" value="{number}" \
form="bulk-form" aria-label="Select #{number}"></td>
      <td class="col-num"><a href="{url}" class="num">#{number}</a></td>
      <td class="col-subject">
        {channel}<a href="{url}" class="subject">{subject}</a>
        <div class="meta">{customer} · {mailbox}{service}{tags}</div>
      </td>
      <td><span class="badge badge-{status}">{status_label}</span>{snoozed}</td>
      <td><span class="prio prio-{priority}">{priority_label}</span>{due}</td>
      <td>{assignee}</td>{columns}
      <td class="col-time"><time datetime="{updated_iso}" \
title="{updated}">{updated_ago}</time></td>
    </tr>
  """
_SNOOZED = '<div class="snoozed small">Wakes <time datetime="{until_iso}">{until}</time></div>'
_TAG = ' <span class="tag">{tag}</span>'
_FIELD_CELL = '<td class="col-field">{value}</td>'
_SERVICE = SafeString(' · <span class="pill pill-service">Service</span>')
_DUE = '<div class="wf-due wf-sla-{state}" title="{label} due {due}">{label} {text}</div>'
_ASSIGNEE = '<span class="who"><span class="avatar avatar-sm">{initials}</span>{name}</span>'
_NOBODY = SafeString('<span class="muted">—</span>')
_OPTION = '<option value="{value}"{selected}>{label}</option>'
_SELECTED = SafeString(" selected")


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any = None) -> SafeString:
    """`<option>`s of (value, label) pairs, the one whose value equals `selected` (as text)
    chosen. A `{% for %}` of options costs ~25 us each in the template engine, and the
    inbox lists every agent twice (filter and bulk assign)."""
    chosen = "" if selected is None else str(selected)
    return html_join(
        html_fill(_OPTION, value=value, selected=_SELECTED if value == chosen else "", label=label)
        for value, label in ((str(v), label) for v, label in choices)
    )


@register.inclusion_tag("tickets/_mail_alerts.html")
def mail_alerts(user: User) -> dict[str, Any]:
    """A warning per active mailbox whose last IMAP poll failed or whose polls stalled,
    for those who see every mailbox (managers and admins; those who may edit mailboxes
    get a link to its settings). One small query, made only for them."""
    failing = needing_attention().only(
        "name",
        "imap_host",
        "imap_error",
        "imap_polled_at",
        "imap_failing_since",
        "poll_interval_seconds",
    )
    may_fix = user.is_admin
    return {
        "alerts": [
            (
                mailbox.name,
                poll_status(mailbox),
                reverse("console:mailbox-edit", args=[mailbox.pk]) if may_fix else "",
            )
            for mailbox in failing
        ]
    }


@register.simple_tag
def inbox_rows(
    tickets: list[Ticket], detail_prefix: str, columns: Iterable[FieldDefinition] = ()
) -> SafeString:
    """The inbox's table rows; each links to `detail_prefix` + the ticket number, with a
    cell for each custom field of `columns`."""
    now = timezone.now()
    keys = [definition.key for definition in columns]
    return html_join(_inbox_row(ticket, detail_prefix, now, keys) for ticket in tickets)


def field_text(value: Any) -> str:
    """A custom field's value as a cell shows it."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _inbox_row(ticket: Ticket, prefix: str, now: datetime, keys: list[str]) -> SafeString:
    due = sla_badge(ticket)
    assignee = ticket.assignee
    customer = ticket.customer
    number = str(ticket.number)
    if assignee is None:
        who = _NOBODY
    else:
        name = assignee.display_name
        who = html_fill(_ASSIGNEE, initials=initials(name), name=name)
    return html_fill(
        _ROW,
        status=ticket.status,
        url=f"{prefix}{number}/",
        number=number,
        subject=ticket.subject,
        channel=ROW_ICONS.get(ticket.channel, ""),
        customer=customer.name or customer.email,
        mailbox=ticket.mailbox.name,
        service=_SERVICE if ticket.kind == Kind.SERVICE else "",
        tags=html_join(html_fill(_TAG, tag=tag) for tag in ticket.tags) if ticket.tags else "",
        status_label=_STATUS_LABELS.get(ticket.status, ticket.status),
        priority=ticket.priority,
        priority_label=_PRIORITY_LABELS.get(ticket.priority, ticket.priority),
        due=html_fill(
            _DUE, state=due["state"], label=due["label"], due=_shown(due["due"]), text=due["text"]
        )
        if due
        else "",
        assignee=who,
        columns=html_join(
            html_fill(_FIELD_CELL, value=field_text(ticket.fields.get(key))) for key in keys
        )
        if keys
        else "",
        snoozed=html_fill(
            _SNOOZED,
            until_iso=template_localtime(ticket.snoozed_until).isoformat(),
            until=_shown(ticket.snoozed_until),
        )
        if ticket.snoozed_until is not None and ticket.snoozed_until > now
        else "",
        updated_iso=template_localtime(ticket.updated_at).isoformat(),
        updated=_shown(ticket.updated_at),
        updated_ago=ago(ticket.updated_at),
    )
