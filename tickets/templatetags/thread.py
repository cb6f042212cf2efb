"""The ticket page's conversation and activity rows, filled in Python (helpdesk.html),
and its URLs (`fast_url`).

As template loops each message cost a few dozen nodes, two includes and a translation a
line, each event three filters and two date formats. These tags give out the same
markup, whitespace included (tests/tickets/test_thread_rows.py keeps the loops they
replaced and compares both on every kind of message and event, in two languages), with
every value escaped by html_fill and the words translated once per process and language.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat, truncatechars
from django.template.defaultfilters import time as time_filter
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import get_language, gettext, pgettext

from helpdesk.html import html_fill, html_join
from tickets import labels
from tickets.mail.templatetags.mail import blocks_remote_images, message_html, message_text
from tickets.models import Message, Ticket, TicketEvent
from tickets.templatetags.tandem import (
    _row_ago,
    _shown,
    event_actor,
    event_summary,
    initials,
    sender,
)

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
@cache
def _no_events_in(language: str) -> SafeString:
    return format_html('<li class="muted">{}</li>', gettext("No history yet."))


def _no_events() -> SafeString:
    return _no_events_in(get_language() or "")


@register.simple_tag
def event_rows(events: list[TicketEvent]) -> SafeString:
    """The activity panel's list items, newest first as given."""
    if not events:
        return _no_events()
    now, language = timezone.now(), get_language()
    return html_join(
        html_fill(
            _EVENT,
            who=event_actor(event),
            summary=event_summary(event),
            at_iso=template_localtime(event.at).isoformat(),
            at=_shown(event.at),
            at_ago=_row_ago(event.at, now, language),
        )
        for event in events
    )


# The conversation's rows. Each message was a few dozen template nodes, two includes, a
# translation a line, three date formats: here the markup is the same, whitespace
# included (tests/tickets/test_thread_rows.py keeps the loop and compares both on every
# kind of message, in English and German), its words translated once per process and
# language, every value escaped by html_fill.
def _t(text: str) -> str:
    """A translation as a piece of a format string: inserted as is, as {% translate %} does."""
    return gettext(text).replace("{", "{{").replace("}", "}}")


class _Rows:
    """The conversation's markup in one language."""

    def __init__(self) -> None:
        # A message's date and time beside its sender, as a Django date format.
        self.short_format = pgettext("a message's date and time", "M j, H:i")
        self.message = (
            '\n        <li class="msg msg-{direction}{automatic}" id="message-{pk}">\n'
            '          <div class="msg-head">\n'
            '            <span class="avatar avatar-sm">{initials}</span>\n'
            '            <strong class="msg-who">{who}</strong>\n'
            '            <span class="msg-kind">{kind}</span>\n'
            "            {checks}\n"
            "            {page}\n"
            "            {delivery}\n"
            '            <time class="msg-time" datetime="{created_iso}" title="{created}">'
            "{created_short}</time>\n"
            "          </div>\n"
            "          {delivery_note}\n"
            '          <div class="msg-actions" data-message-actions="{pk}">{actions}</div>\n'
            "          \n"
            "          {body}\n"
            "          {attachments}\n"
            "        </li>\n      "
        )
        self.kinds = {
            "note": SafeString(gettext("Internal note · not visible to the customer")),
            "automatic": SafeString(gettext("Automatic message")),
            "outbound": SafeString(gettext("Reply")),
            "inbound": SafeString(gettext("Customer")),
        }
        self.checks = (
            '\n            <span class="sender-checks{failed}" {alert}title="'
            + _t("What our mail server found when it checked the sender:")
            + ' {title}">{text}</span>\n            '
        )
        self.page = (
            '<span class="msg-page">'
            + _t("Sent from")
            + ' <a href="{url}" rel="noopener noreferrer" target="_blank">{shown}</a>{identity}'
            "</span>"
        )
        self.retrying = (
            "\n              \n"
            '              <span class="delivery delivery-retrying" title="{error}">'
            "{text}</span>\n              \n            "
        )
        self.delivery = (
            "\n              \n"
            '              <span class="delivery delivery-{status}" title="{error}">'
            "{label}{sent}</span>\n              \n            "
        )
        self.not_delivered = (
            '\n            <div class="delivery-error" role="alert">{text}</div>\n          '
        )
        self.not_sent = (
            '\n            <div class="delivery-retry" role="status">{text}</div>\n          '
        )
        self.retry = (
            '\n<form method="post" action="{url}">{csrf}<button type="submit"'
            ' class="btn btn-small">' + _t("Retry sending") + "</button></form>\n"
        )
        self.split = (
            '<form method="post" action="{url}" class="wf-split" data-confirm="'
            + _t("Move this message into a new ticket?")
            + '">{csrf}<button type="submit" class="linklike small" title="'
            + _t("Move this message into a new ticket")
            + '">'
            + _t("Split into new ticket")
            + "</button></form>"
        )
        self.body_html = (
            '<div class="msg-body mail-body" data-mail-body>\n  \n    {blocked}\n'
            '    <div class="msg-html mail-html">{html}</div>\n  \n  {quote}\n</div>\n'
        )
        self.body_text = (
            '<div class="msg-body mail-body" data-mail-body>\n  \n    {text}\n'
            "  \n  {quote}\n</div>\n"
        )
        self.blocked = SafeString(
            '\n      <p class="mail-images-blocked">'
            + gettext("Remote images in this email are blocked to protect your privacy.")
            + '\n        <button type="button" class="linklike" data-load-images>'
            + gettext("Load images")
            + "</button></p>\n    "
        )
        self.quote = (
            '<details class="mail-quoted"><summary>'
            + _t("Show quoted text")
            + "</summary>{quote}</details>"
        )
        self.attachments = (
            '\n          <ul class="attachments">\n            {items}\n          </ul>\n          '
        )
        self.attachment = (
            '\n            <li><a href="{url}">{name}</a> <span class="muted">{size}</span></li>\n'
            "            "
        )
        self.none = SafeString(
            '\n        <li class="empty-small">' + gettext("No messages yet.") + "</li>\n      "
        )
        self.retrying_at = gettext("Retrying at %(at)s")
        self.not_delivered_text = gettext("Not delivered: %(error)s")
        self.not_sent_text = gettext(
            "Not sent yet: %(error)s It is tried again at %(at)s, and until it goes out;"
            " nothing to do."
        )


@cache
def _rows_in(language: str) -> _Rows:
    """The rows' words and fixed pieces, built once per process and language."""
    return _Rows()


def _rows() -> _Rows:
    return _rows_in(get_language() or "")


@register.simple_tag(takes_context=True)
def message_rows(context: template.Context, conversation: list[Message]) -> SafeString:
    """The conversation's list items, oldest first as given, each with its actions (retry
    a failed delivery, split from the second message on) for an agent who may act."""
    rows = _rows()
    if not conversation:
        return rows.none
    ticket: Ticket = context["ticket"]
    user = context["user"]
    csrf = html_fill(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">',
        token=str(context.get("csrf_token", "")),
    )
    may_act = user.may_act
    may_split = may_act and ticket.status != "closed"
    number = ticket.number
    out = []
    for index, message in enumerate(conversation):
        actions: list[Any] = ["\n"]
        if may_act and message.direction == "outbound" and message.delivery_status == "failed":
            url = fast_url("tickets:retry_delivery", number, message.pk)
            actions.append(html_fill(rows.retry, url=url, csrf=csrf))
        actions.append("\n")
        if may_split and index:
            url = fast_url("tickets:split", number, message.pk)
            actions.append(html_fill(rows.split, url=url, csrf=csrf))
        actions.append("\n")
        out.append(_message(rows, message, ticket, html_join(actions)))
    return html_join(out)


def _message(rows: _Rows, message: Message, ticket: Ticket, actions: SafeString) -> SafeString:
    who = sender(message, ticket)
    direction = message.direction
    if direction == "outbound" and message.automatic:
        kind = rows.kinds["automatic"]
    else:
        kind = rows.kinds.get(direction, rows.kinds["inbound"])
    created = template_localtime(message.created_at)
    return html_fill(
        rows.message,
        direction=direction,
        automatic=SafeString(" msg-automatic") if message.automatic else "",
        pk=message.pk,
        initials=initials(who),
        who=who,
        kind=kind,
        checks=_checks(rows, message),
        page=_page(rows, message),
        delivery=_delivery(rows, message),
        created_iso=created.isoformat(),
        created=_shown(message.created_at),
        created_short=date_format(created, rows.short_format),
        delivery_note=_delivery_note(rows, message),
        actions=actions,
        body=_body(rows, message),
        attachments=_attachments(rows, message, ticket.number),
    )


def _checks(rows: _Rows, message: Message) -> Any:
    if message.direction != "inbound":
        return ""
    checks = message.sender_checks
    if not checks:
        return ""
    warning = message.sender_warning
    return html_fill(
        rows.checks,
        failed=" sender-checks-failed" if warning else "",
        alert=SafeString('role="alert" ') if warning else "",
        title=", ".join(f"{name} {result}" for name, result, _ in checks),
        text=warning or " · ".join(f"{name} {result}" for name, result, _ in checks),
    )


def _page(rows: _Rows, message: Message) -> Any:
    if not message.page_url:
        return ""
    identity = message.sender_identity
    return html_fill(
        rows.page,
        url=message.page_url,
        shown=truncatechars(message.page_url, 80),
        identity=html_fill(" · {identity}", identity=identity) if identity else "",
    )


def _delivery(rows: _Rows, message: Message) -> Any:
    status = message.delivery_status
    if message.direction != "outbound" or not status:
        return ""
    error = message.delivery_error
    if status == "queued" and error:
        at = conditional_escape(_time(message.next_attempt_at))
        text = SafeString(rows.retrying_at % {"at": at})
        return html_fill(rows.retrying, error=error, text=text)
    sent_at = message.sent_at
    sent = (
        f" {_row_ago(sent_at, timezone.now(), get_language())}"
        if status == "sent" and sent_at
        else ""
    )
    return html_fill(
        rows.delivery,
        status=status,
        error=error,
        label=labels.label("delivery_status", status),
        sent=sent,
    )


def _delivery_note(rows: _Rows, message: Message) -> Any:
    error, status = message.delivery_error, message.delivery_status
    if error and status in ("failed", "undelivered"):
        text = SafeString(rows.not_delivered_text % {"error": conditional_escape(error)})
        return html_fill(rows.not_delivered, text=text)
    if error and status == "queued":
        at = conditional_escape(_time(message.next_attempt_at))
        text = SafeString(rows.not_sent_text % {"error": conditional_escape(error), "at": at})
        return html_fill(rows.not_sent, text=text)
    return ""


def _time(value: Any) -> str:
    """`{{ value|time:"H:i" }}`."""
    return time_filter(template_localtime(value), "H:i")


def _body(rows: _Rows, message: Message) -> SafeString:
    quoted = getattr(message, "sent_quote", None)
    quote = html_fill(rows.quote, quote=quoted) if quoted else ""
    if message.body_html:
        blocked = rows.blocked if blocks_remote_images(message) else ""
        return html_fill(rows.body_html, blocked=blocked, html=message_html(message), quote=quote)
    return html_fill(rows.body_text, text=message_text(message), quote=quote)


def _attachments(rows: _Rows, message: Message, number: int) -> Any:
    attachments = message.attachments.all()
    if not attachments:
        return ""
    items = html_join(
        html_fill(
            rows.attachment,
            url=fast_url("tickets:attachment", number, item.pk),
            name=item.filename,
            size=filesizeformat(item.size),
        )
        for item in attachments
    )
    return html_fill(rows.attachments, items=items)
