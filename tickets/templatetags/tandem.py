"""Template helpers shared by the agent screens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django import template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, get_format, localize
from django.utils.html import avoid_wrapping, escape
from django.utils.safestring import SafeString
from django.utils.timesince import TIME_STRINGS, TIME_STRINGS_KEYS
from django.utils.timezone import (  # type: ignore[attr-defined]  # template_localtime: not in the stubs
    get_current_timezone_name,
    template_localtime,
)
from django.utils.translation import get_language, gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.fixed_markup import fixed
from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets import labels
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

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()

_LABELS: dict[str, dict[str, StrOrPromise]] = {
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


# The activity feed's words, as pieces to translate: the fields a change names (as the
# sentence says them, lower case in English) and fixed phrases, looked up once per
# process and language (_event_words), not per row.
_FIELD_NAMES = {
    EventKind.STATUS: pgettext_lazy("changed field", "status"),
    EventKind.PRIORITY: pgettext_lazy("changed field", "priority"),
    EventKind.KIND: pgettext_lazy("changed field", "kind"),
    EventKind.TEAM: pgettext_lazy("changed field", "team"),
    EventKind.TAGS: pgettext_lazy("changed field", "tags"),
    EventKind.SUBJECT: pgettext_lazy("changed field", "subject"),
    EventKind.MAILBOX: pgettext_lazy("changed field", "mailbox"),
    EventKind.CUSTOMER: pgettext_lazy("changed field", "customer"),
    EventKind.CC: pgettext_lazy("changed field", "cc"),
}
_MESSAGE_WORDS = {
    Direction.INBOUND: _("received a customer message"),
    Direction.OUTBOUND: _("replied"),
    Direction.NOTE: _("added an internal note"),
}
# tickets.services.courtesy's calls and their undoing, as the activity feed says them.
_COURTESY = {
    "thanks": _("kept the ticket solved: the customer's reply only says thanks"),
    "thanks_undone": _("reopened a ticket kept solved after a thank-you"),
    "newsletter": _("marked it as a newsletter, out of Unassigned"),
    "newsletter_undone": _("said it is not a newsletter"),
}
_EVENT_PHRASES = {
    "nothing": pgettext_lazy("no value in a change", "nothing"),
    "yes": pgettext_lazy("custom field value", "yes"),
    "no": pgettext_lazy("custom field value", "no"),
    "rule": _("Rule “%(rule)s”"),
    "system": _("System"),
    "created": _("created the ticket"),
    "wrote": _("wrote"),
    "recorded": _("recorded the customer's message"),
    "added_message": _("added a message"),
    "assigned": _("assigned to %(name)s"),
    "unassigned": _("unassigned the ticket"),
    "changed": _("changed %(field)s from %(before)s to %(after)s"),
    "merged_in": _("merged #%(number)s into this ticket (%(moved)s)"),
    "merged_into": _("merged into #%(number)s (%(moved)s)"),
    "merged": _("merged"),
    "split_from": _("split this ticket from #%(number)s (%(moved)s)"),
    "split_out": _("split %(moved)s out into #%(number)s"),
    "snooze_ended": _("ended the snooze"),
    "snoozed": _("snoozed until %(time)s"),
    "sla_breached": _("SLA breached: %(target)s overdue"),
    "first_response": _("first response"),
    "resolution": pgettext_lazy("SLA target in a sentence", "resolution"),
    "linked": _("linked follow-up #%(number)s"),
    "field_set": _("%(field)s to %(value)s"),
    "field_cleared": _("cleared %(field)s"),
    "fields_set": _("set %(changes)s"),
    "survey": _("answered the survey: %(answers)s"),
    "courtesy_other": _("Mail that needs no one"),
    "labelled": _("%(label)s: %(value)s"),
}


@lru_cache(maxsize=16)
def _event_words(language: str | None) -> dict[str, Any]:
    """The activity feed's words in one language, looked up once per process."""
    words: dict[str, Any] = {key: str(text) for key, text in _EVENT_PHRASES.items()}
    words["labels"] = {
        kind: {value: str(label) for value, label in labels.items()}
        for kind, labels in _LABELS.items()
    }
    words["fields"] = {kind: str(name) for kind, name in _FIELD_NAMES.items()}
    words["message"] = {key: str(text) for key, text in _MESSAGE_WORDS.items()}
    words["courtesy"] = {key: str(text) for key, text in _COURTESY.items()}
    words["kinds"] = {value: str(label) for value, label in EventKind.choices}
    words["actors"] = {value: str(label) for value, label in ActorKind.choices}
    return words


def _value(kind: str, value: Any, words: dict[str, Any] | None = None) -> str:
    words = words or _event_words(get_language())
    if value in (None, "", []):
        return words["nothing"]
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return words["labels"].get(kind, {}).get(value, str(value))


@register.filter
def choice_label(value: str, field: str) -> str:
    """`{{ ticket.status|choice_label:"status" }}`: a ticket choice's label in the active
    language, as get_status_display() gives it at a dictionary lookup's cost."""
    return labels.label(field, value)


@register.filter
def event_actor(event: TicketEvent) -> str:
    if event.actor is not None:
        return event.actor.display_name
    words = _event_words(get_language())
    if event.actor_kind == ActorKind.RULE and event.data.get("rule"):
        return words["rule"] % {"rule": event.data["rule"]}
    return words["actors"].get(event.actor_kind, words["system"])


def _moved(event: TicketEvent, words: dict[str, Any]) -> str:
    """ "3 messages": how many a merge or split moved (merges before the list said how many),
    with the language's own plural ("0 message" in French)."""
    messages = event.data.get("messages", 0)
    count = len(messages) if isinstance(messages, list) else int(messages)
    return ngettext("%(count)s message", "%(count)s messages", count) % {"count": count}


def _field_value(value: object, words: dict[str, Any]) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    return str(value)


@register.filter
def event_summary(event: TicketEvent) -> str:
    """One readable line per event, e.g. "changed status from New to Open"."""
    words = _event_words(get_language())
    kind = event.kind
    if kind == EventKind.CREATED:
        return words["created"]
    if kind == EventKind.MESSAGE:
        if event.after == Direction.INBOUND and event.actor_kind == ActorKind.CUSTOMER:
            return words["wrote"]
        if event.after == Direction.INBOUND and event.actor_kind == ActorKind.AGENT:
            return words["recorded"]  # a ticket opened on their behalf
        return words["message"].get(event.after, words["added_message"])
    if kind == EventKind.ASSIGNEE:
        names = getattr(event, "names", {})
        if not event.after:
            return words["unassigned"]
        return words["assigned"] % {"name": names.get(event.after, event.after)}
    if kind in _FIELD_NAMES:
        return words["changed"] % {
            "field": words["fields"][kind],
            "before": _value(kind, event.before, words),
            "after": _value(kind, event.after, words),
        }
    if kind == EventKind.MERGED:
        if event.before:
            return words["merged_in"] % {"number": event.before, "moved": _moved(event, words)}
        if event.after:
            return words["merged_into"] % {"number": event.after, "moved": _moved(event, words)}
        return words["merged"]
    if kind == EventKind.SPLIT:
        if event.before:
            return words["split_from"] % {"number": event.before, "moved": _moved(event, words)}
        return words["split_out"] % {"number": event.after, "moved": _moved(event, words)}
    if kind == EventKind.SNOOZE:
        until = parse_datetime(event.after) if isinstance(event.after, str) else None
        if until is None:
            return words["snooze_ended"]
        time = date_format(timezone.localtime(until), "DATETIME_FORMAT")
        return words["snoozed"] % {"time": time}
    if kind == EventKind.SLA and event.after == "breached":
        first = event.data.get("target") == "first_response"
        target = words["first_response" if first else "resolution"]
        return words["sla_breached"] % {"target": target}
    if kind == EventKind.LINKED:
        return words["linked"] % {"number": event.after}
    if kind == EventKind.FIELDS and isinstance(event.after, dict):
        changed = ", ".join(
            words["field_set"] % {"field": key, "value": _field_value(value, words)}
            if value not in (None, "", [])
            else words["field_cleared"] % {"field": key}
            for key, value in event.after.items()
        )
        return words["fields_set"] % {"changes": changed}
    if kind == EventKind.SURVEY and isinstance(event.after, dict):
        # metrics.surveys records {"csat": 4, "ces": 6}.
        answers = ", ".join(f"{name.upper()} {score}" for name, score in event.after.items())
        return words["survey"] % {"answers": answers}
    if kind == EventKind.COURTESY:
        return words["courtesy"].get(str(event.after), words["courtesy_other"])
    label = words["kinds"].get(kind, kind)
    if event.after in (None, ""):
        return label
    return words["labelled"] % {"label": label, "value": _value(kind, event.after, words)}


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
# value it is given. Its words are translated once per process and language (_row_words).
_ROW = """
    <tr class="ticket-row status-{status}" data-href="{url}" data-number="{number}">
      <td class="col-check"><input type="checkbox" name="tickets" value="{number}" \
form="bulk-form" aria-label="{select}"></td>
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
_SNOOZED = '<div class="snoozed small">{wakes}</div>'
_WAKES_AT = '<time datetime="{until_iso}">{until}</time>'
_TAG = ' <span class="tag">{tag}</span>'
_FIELD_CELL = '<td class="col-field">{value}</td>'
_SERVICE = ' · <span class="pill pill-service">{service}</span>'
_DUE = '<div class="wf-due wf-sla-{state}" title="{title}">{label} {text}</div>'
_ASSIGNEE = '<span class="who"><span class="avatar avatar-sm">{initials}</span>{name}</span>'
_NOBODY = SafeString('<span class="muted">—</span>')
_OPTION = '<option value="{value}"{selected}>{label}</option>'
_SELECTED = SafeString(" selected")
# As `<option value="{{ value }}" {% if ... %}selected{% endif %}>` wrote them.
_SPACED_OPTION = '<option value="{value}" {selected}>{label}</option>'
_SPACED_SELECTED = SafeString("selected")


@register.simple_tag
def options(
    choices: Iterable[tuple[Any, Any]], selected: Any = None, *, spaced: bool = False
) -> SafeString:
    """`<option>`s of (value, label) pairs, the one whose value equals `selected` (as text)
    chosen. A `{% for %}` of options costs ~25 us each in the template engine, and the
    inbox lists every agent twice (filter and bulk assign). `spaced`: the markup of the
    inbox's filter loops, a space before the (empty) `selected`."""
    chosen = "" if selected is None else str(selected)
    markup, mark = (_SPACED_OPTION, _SPACED_SELECTED) if spaced else (_OPTION, _SELECTED)
    return html_join(
        html_fill(markup, value=value, selected=mark if value == chosen else "", label=label)
        for value, label in ((str(v), label) for v, label in choices)
    )


register.tag("fixed", fixed)


@register.simple_tag
def cached_url(name: str, *args: Any) -> str:
    """`{% url name *args %}`, reversed once per process, URL prefix and language: the
    layout and the inbox name ~25 URLs a page, ~50 us each through reverse()."""
    return _reversed(name, args, get_script_prefix(), get_urlconf(), get_language())


@lru_cache(maxsize=1024)
def _reversed(name: str, args: tuple[Any, ...], prefix: str, urlconf: Any, language: Any) -> str:
    return reverse(name, args=args, urlconf=urlconf)


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
    words = _row_words(get_language())
    zone = get_current_timezone_name()
    return html_join(
        _inbox_row(ticket, detail_prefix, now, keys, words, zone) for ticket in tickets
    )


@lru_cache(maxsize=16)
def _row_words(language: str | None) -> dict[str, Any]:
    """The words of an inbox row in one language, looked up once per process: a lookup
    per row (labels, "Select #…", "… ago") cost ~40 us a row."""
    return {
        "status": labels.texts("status"),
        "priority": labels.texts("priority"),
        "service": html_fill(_SERVICE, service=pgettext("ticket kind", "Service")),
        # "%(time)s" is markup (a <time>), the rest of the sentence is escaped text.
        "wakes": escape(gettext("Wakes %(time)s")),
        "due": gettext("%(target)s due %(time)s"),
        "select": gettext("Select #%(number)s"),
        "language": language,
        "datetime_format": get_format("DATETIME_FORMAT"),
    }


@lru_cache(maxsize=4096)
def _ago_text(language: str | None, unit: int, count: int) -> str:
    # What timesince gives for a time under four weeks ago (one unit).
    return _ago_phrase(avoid_wrapping(TIME_STRINGS[TIME_STRINGS_KEYS[unit]] % {"num": count}))


def _ago_phrase(since: str) -> str:
    """helpdesk.humanize.ago's words around timesince's, translated."""
    if since.startswith("0"):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": since}


def _row_ago(value: datetime, now: datetime, language: str | None) -> str:
    """helpdesk.humanize.ago(value) for a row, without timesince: under four weeks, units
    of a fixed length; past that, whole calendar months and years counted as timesince
    counts them (a month is complete when its day and time of day have come round)."""
    since = now - value
    seconds = since.days * 86400 + since.seconds
    if seconds >= 28 * 86400:
        if value.tzinfo is not None and now.tzinfo is not None:
            now = now.astimezone(value.tzinfo)
        months = (now.year - value.year) * 12 + now.month - value.month
        if value.day > now.day or (value.day == now.day and value.time() > now.time()):
            months -= 1
        if months >= 12:
            return _ago_text(language, 0, months // 12)
        if months:
            return _ago_text(language, 1, months)
        return _ago_text(language, 2, seconds // 604800)
    for unit, chunk in ((2, 604800), (3, 86400), (4, 3600), (5, 60)):
        if seconds >= chunk:
            return _ago_text(language, unit, seconds // chunk)
    return _ago_text(language, 5, 0)


@lru_cache(maxsize=8192)
def _iso_in(value: datetime, zone: str) -> str:
    return template_localtime(value).isoformat()


def field_text(value: Any) -> str:
    """A custom field's value as a cell shows it."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _snoozed(until: datetime, words: dict[str, Any], zone: str, shown_format: str) -> SafeString:
    # The sentence is translated and escaped once (_row_words); its %(time)s is markup.
    shown = _shown_in(until, zone, words["language"], shown_format)
    time = html_fill(_WAKES_AT, until_iso=_iso_in(until, zone), until=shown)
    return html_fill(_SNOOZED, wakes=SafeString(words["wakes"] % {"time": time}))


def _inbox_row(
    ticket: Ticket, prefix: str, now: datetime, keys: list[str], words: dict[str, Any], zone: str
) -> SafeString:
    due = sla_badge(ticket)
    assignee = ticket.assignee
    customer = ticket.customer
    number = str(ticket.number)
    if assignee is None:
        who = _NOBODY
    else:
        name = assignee.display_name
        who = html_fill(_ASSIGNEE, initials=initials(name), name=name)
    language = words["language"]
    shown_format = words["datetime_format"]
    snoozed_until = ticket.snoozed_until
    return html_fill(
        _ROW,
        status=ticket.status,
        url=f"{prefix}{number}/",
        number=number,
        select=words["select"] % {"number": number},
        subject=ticket.subject,
        channel=ROW_ICONS.get(ticket.channel, ""),
        customer=customer.name or customer.email,
        mailbox=ticket.mailbox.name,
        service=words["service"] if ticket.kind == Kind.SERVICE else "",
        tags=html_join(html_fill(_TAG, tag=tag) for tag in ticket.tags) if ticket.tags else "",
        status_label=words["status"].get(ticket.status, ticket.status),
        priority=ticket.priority,
        priority_label=words["priority"].get(ticket.priority, ticket.priority),
        due=html_fill(
            _DUE,
            state=due["state"],
            title=words["due"] % {"target": due["label"], "time": _shown(due["due"])},
            label=due["label"],
            text=due["text"],
        )
        if due
        else "",
        assignee=who,
        columns=html_join(
            html_fill(_FIELD_CELL, value=field_text(ticket.fields.get(key))) for key in keys
        )
        if keys
        else "",
        snoozed=_snoozed(snoozed_until, words, zone, shown_format)
        if snoozed_until is not None and snoozed_until > now
        else "",
        updated_iso=_iso_in(ticket.updated_at, zone),
        updated=_shown_in(ticket.updated_at, zone, language, shown_format),
        updated_ago=_row_ago(ticket.updated_at, now, language),
    )
