"""The ticket page's conversation and activity rows, filled in Python (helpdesk.html).

As template loops they were most of the page's rendering: each message a few dozen
nodes, two includes, three date formats, a URL per attachment and per form; each event
three filters and two date formats. These tags give out the same markup, whitespace
included (tests/tickets/test_thread_rows.py keeps the loops they replaced and compares
both on every kind of message and event), with every value escaped by html_fill.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

from helpdesk.html import html_fill, html_join
from helpdesk.humanize import ago
from tickets.mail.templatetags.mail import blocks_remote_images, message_html, message_text
from tickets.models import Direction, Message, Status, Ticket, TicketEvent
from tickets.templatetags.tandem import _shown, event_actor, event_summary, initials, sender

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


_MESSAGE = """
        <li class="msg msg-{direction}{automatic}" id="message-{pk}">
          <div class="msg-head">
            <span class="avatar avatar-sm">{initials}</span>
            <strong class="msg-who">{who}</strong>
            <span class="msg-kind">{kind}</span>
            {checks}
            {delivery}
            <time class="msg-time" datetime="{created_iso}" title="{created}">{created_short}</time>
          </div>
          {delivery_note}
          <div class="msg-actions" data-message-actions="{pk}">{actions}</div>
          \n          {body}
          {attachments}
        </li>
      """
_AUTOMATIC = SafeString(" msg-automatic")
_CHECKS = """
            <span class="sender-checks{failed}" {alert}title="What our mail server found when it \
checked the sender: {title}">{text}</span>
            """
_RETRYING = """
              \n              <span class="delivery delivery-retrying" title="{error}">Retrying \
at {at}</span>
              \n            """
_DELIVERY = """
              \n              <span class="delivery delivery-{status}" title="{error}">{label}\
{sent}</span>
              \n            """
_NOT_DELIVERED = """
            <div class="delivery-error" role="alert">Not delivered: {error}</div>
          """
_NOT_SENT_YET = """
            <div class="delivery-retry" role="status">Not sent yet: {error} It is tried again \
at {at}, and until it goes out; nothing to do.</div>
          """
_RETRY = """
<form method="post" action="{url}">{csrf}<button type="submit" class="btn btn-small">Retry \
sending</button></form>
"""
_SPLIT = (
    '<form method="post" action="{url}" class="wf-split" data-confirm="Move this message into'
    ' a new ticket?">{csrf}<button type="submit" class="linklike small" title="Move this message'
    ' into a new ticket">Split into new ticket</button></form>'
)
_CSRF = '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
_BODY_HTML = """<div class="msg-body mail-body" data-mail-body>
  \n    {blocked}
    <div class="msg-html mail-html">{html}</div>
  \n</div>
"""
_BLOCKED = """
      <p class="mail-images-blocked">Remote images in this email are blocked to protect your \
privacy.
        <button type="button" class="linklike" data-load-images>Load images</button></p>
    """
_BODY_TEXT = """<div class="msg-body mail-body" data-mail-body>
  \n    {text}
  \n</div>
"""
_ATTACHMENTS = """
          <ul class="attachments">
            {items}
          </ul>
          """
_ATTACHMENT = """
            <li><a href="{url}">{name}</a> <span class="muted">{size}</span></li>
            """
_NO_MESSAGES = SafeString('\n        <li class="empty-small">No messages yet.</li>\n      ')
_KINDS = {
    Direction.NOTE: "Internal note · not visible to the customer",
    Direction.INBOUND: "Customer",
}


@register.simple_tag(takes_context=True)
def message_rows(context: template.Context, conversation: list[Message]) -> SafeString:
    """The conversation's list items, oldest first as given, each with its actions (retry
    a failed delivery, split from the second message on) for an agent who may act."""
    if not conversation:
        return _NO_MESSAGES
    ticket: Ticket = context["ticket"]
    user = context["user"]
    csrf = html_fill(_CSRF, token=str(context.get("csrf_token", "")))
    may_act = user.may_act
    may_split = may_act and ticket.status != Status.CLOSED
    number = ticket.number
    rows = []
    for index, message in enumerate(conversation):
        actions: list[Any] = ["\n"]
        outbound = message.direction == Direction.OUTBOUND
        if may_act and outbound and message.delivery_status == "failed":
            url = reverse("tickets:retry_delivery", args=[number, message.pk])
            actions.append(html_fill(_RETRY, url=url, csrf=csrf))
        actions.append("\n")
        if may_split and index:
            url = reverse("tickets:split", args=[number, message.pk])
            actions.append(html_fill(_SPLIT, url=url, csrf=csrf))
        actions.append("\n")
        rows.append(_message(message, ticket, html_join(actions)))
    return html_join(rows)


def _message(message: Message, ticket: Ticket, actions: SafeString) -> SafeString:
    who = sender(message, ticket)
    direction = message.direction
    if direction == Direction.OUTBOUND:
        kind = "Automatic message" if message.automatic else "Reply"
    else:
        kind = _KINDS.get(direction, "Customer")
    created = template_localtime(message.created_at)
    return html_fill(
        _MESSAGE,
        direction=direction,
        automatic=_AUTOMATIC if message.automatic else "",
        pk=message.pk,
        initials=initials(who),
        who=who,
        kind=kind,
        checks=_checks(message),
        delivery=_delivery(message),
        created_iso=created.isoformat(),
        created=_shown(message.created_at),
        created_short=date_format(created, "M j, H:i"),
        delivery_note=_delivery_note(message),
        actions=actions,
        body=_body(message),
        attachments=_attachments(message, ticket.number),
    )


def _checks(message: Message) -> Any:
    if message.direction != Direction.INBOUND:
        return ""
    checks = message.sender_checks
    if not checks:
        return ""
    warning = message.sender_warning
    return html_fill(
        _CHECKS,
        failed=" sender-checks-failed" if warning else "",
        alert=SafeString('role="alert" ') if warning else "",
        title=", ".join(f"{name} {result}" for name, result, _ in checks),
        text=warning or " · ".join(f"{name} {result}" for name, result, _ in checks),
    )


def _delivery(message: Message) -> Any:
    status = message.delivery_status
    if message.direction != Direction.OUTBOUND or not status:
        return ""
    error = message.delivery_error
    if status == "queued" and error:
        return html_fill(_RETRYING, error=error, at=_time(message.next_attempt_at))
    sent = f" {ago(message.sent_at)}" if status == "sent" and message.sent_at else ""
    return html_fill(
        _DELIVERY,
        status=status,
        error=error,
        label=message.get_delivery_status_display(),  # type: ignore[attr-defined]
        sent=sent,
    )


def _delivery_note(message: Message) -> Any:
    error, status = message.delivery_error, message.delivery_status
    if error and status in ("failed", "undelivered"):
        return html_fill(_NOT_DELIVERED, error=error)
    if error and status == "queued":
        return html_fill(_NOT_SENT_YET, error=error, at=_time(message.next_attempt_at))
    return ""


def _time(value: Any) -> str:
    """`{{ value|time:"H:i" }}`."""
    return "" if value is None else date_format(template_localtime(value), "H:i")


def _body(message: Message) -> SafeString:
    if message.body_html:
        blocked = _BLOCKED if blocks_remote_images(message) else ""
        return html_fill(_BODY_HTML, blocked=SafeString(blocked), html=message_html(message))
    return html_fill(_BODY_TEXT, text=message_text(message))


def _attachments(message: Message, number: int) -> Any:
    attachments = message.attachments.all()
    if not attachments:
        return ""
    items = html_join(
        html_fill(
            _ATTACHMENT,
            url=reverse("tickets:attachment", args=[number, item.pk]),
            name=item.filename,
            size=filesizeformat(item.size),
        )
        for item in attachments
    )
    return html_fill(_ATTACHMENTS, items=items)
