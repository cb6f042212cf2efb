"""What an agent's reply email says, in HTML and in plain text, built in one place.

Under the agent's words (`Message.body_text`, Markdown, and its rendered `body_html`)
come, in this order:
- the link to the conversation in the portal;
- the signature: **the agent's own** (set on their profile, "Signature") **when they have
  one, else the mailbox's** (Settings > Mailboxes), else the product's name; Markdown;
- the earlier conversation: the last message before the reply from the customer or an
  agent (not notes, not automatic messages), as "On <date>, <name> wrote:" and a
  blockquote in HTML, and "> " lines in text. Its own quoted history comes with it.

The email is multipart/alternative (text, then sanitized HTML); images the reply shows
inline travel in a multipart/related with the HTML, by Content-ID. Automatic messages
(acknowledgements, surveys) go out as they were stored. The conversation in the app
shows the same quote collapsed (`quote_html` for the message before, on the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage as MIMEMessage
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.defaultfilters import linebreaks_filter
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop

from helpdesk.branding import signature
from helpdesk.html import html_fill, html_join
from tickets import hooks
from tickets.formatting import render_reply, reply_text
from tickets.languages import customer_language
from tickets.links import portal_ticket_url
from tickets.models import Attachment, Direction, Message, Ticket, User

# The reply's fixed words, in the customer's language (reply_bodies).
_LINK = gettext_noop("View this request online:")
# The quoted message's attribution: its date as a Django date format, so each language
# orders it its own way (English: "Sun, 6 Dec 2026 at 17:49").
_WHEN = gettext_noop("D, j M Y \\a\\t H:i")


class TicketEmail(EmailMultiAlternatives):
    """An email whose HTML carries inline parts: multipart/related (RFC 2387) of the
    HTML and each (content, type, Content-ID, name) of `related`."""

    def __init__(
        self, *args: Any, related: Sequence[tuple[bytes, str, str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.related = list(related)

    def _add_bodies(self, msg: MIMEMessage) -> MIMEMessage:
        super()._add_bodies(msg)  # type: ignore[misc]  # django-stubs: private, not in the stubs
        html_part = msg.get_body(("html",)) if self.related else None
        for content, mimetype, cid, filename in self.related if html_part else ():
            maintype, subtype = mimetype.split("/", 1)
            html_part.add_related(  # type: ignore[union-attr]
                content, maintype=maintype, subtype=subtype, cid=f"<{cid}>", filename=filename
            )
        return msg


def signature_for(author: User | None, ticket: Ticket) -> str:
    """The signature (Markdown) under a reply: the agent's, else the mailbox's, else the
    product's name."""
    own = author.signature.strip() if author else ""
    return own or signature(ticket.mailbox.signature.strip())


def quoted_message(message: Message) -> Message | None:
    """The message a reply quotes: the last one before it from the customer or an agent."""
    before = Q(created_at__lt=message.created_at) | Q(
        created_at=message.created_at, pk__lt=message.pk
    )
    return (
        Message.objects.filter(before, ticket_id=message.ticket_id, automatic=False)
        .filter(direction__in=[Direction.INBOUND, Direction.OUTBOUND])
        .select_related("author")
        .order_by("-created_at", "-id")
        .first()
    )


def quotable(message: Message) -> bool:
    return message.direction != Direction.NOTE and not message.automatic


def attribution(quoted: Message, ticket: Ticket) -> str:
    """ "On <date>, <sender> wrote:" in the active language."""
    when = date_format(timezone.localtime(quoted.created_at), gettext(_WHEN))
    return gettext("On %(when)s, %(name)s wrote:") % {
        "when": when,
        "name": quoted.sender_name(ticket),
    }


def quote_text(quoted: Message, ticket: Ticket) -> str:
    lines = reply_text(quoted.body_text).strip().splitlines() or [""]
    quoted_lines = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"{attribution(quoted, ticket)}\n{quoted_lines}\n"


def quote_html(quoted: Message, ticket: Ticket) -> SafeString:
    if quoted.is_agent_reply:
        # Its formatting, without its images (their parts are not in this email).
        inner = SafeString(render_reply(quoted.body_text))
    else:
        inner = linebreaks_filter(quoted.body_text.strip(), autoescape=True)
    return html_fill(
        '<p class="quote-attribution">{who}</p>\n'
        '<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;'
        'padding-left:1ex">{inner}</blockquote>',
        who=attribution(quoted, ticket),
        inner=inner,
    )


def reply_bodies(message: Message) -> tuple[str, str]:
    """(text, HTML) of an agent's reply as the customer gets it, its fixed words (the
    link's label, the quote's attribution) in the customer's language."""
    with translation.override(customer_language(message.ticket.customer)):
        return _reply_bodies(message)


def _reply_bodies(message: Message) -> tuple[str, str]:
    ticket = message.ticket
    link = gettext(_LINK)
    url = portal_ticket_url(ticket)
    signed = signature_for(message.author, ticket)
    quoted = quoted_message(message)
    words = hooks.outgoing_body(message, reply_text(message.body_text)).rstrip()
    text = f"{words}\n\n{link} {url}\n\n-- \n{signed}\n"
    if quoted is not None:
        text = f"{text}\n{quote_text(quoted, ticket)}"
    body_html = message.body_html or render_reply(message.body_text)
    parts = [
        SafeString(hooks.outgoing_body(message, body_html)),
        html_fill('\n<p>{label} <a href="{url}">{url}</a></p>', label=link, url=url),
        html_fill(
            '\n<div class="signature">-- <br>\n{signature}</div>',
            signature=SafeString(render_reply(signed)),
        ),
    ]
    if quoted is not None:
        parts.append(html_fill("\n<br>\n{quote}", quote=quote_html(quoted, ticket)))
    document = html_fill(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n'
        "</body></html>\n",
        body=html_join(parts),
    )
    return text, str(document)


def outgoing_bodies(message: Message) -> tuple[str, str]:
    """(text, HTML or "") of any outbound message: an agent's reply composed as above,
    an automatic message as stored. Survey links and the like are filled in here."""
    if not message.automatic:
        return reply_bodies(message)
    text = hooks.outgoing_body(message, message.body_text)
    html = hooks.outgoing_body(message, message.body_html) if message.body_html else ""
    return text, html


def inline_parts(message: Message, attachments: Sequence[Attachment]) -> list[Attachment]:
    """The attachments the HTML shows inline (cid:), which travel with it."""
    html = message.body_html
    return [a for a in attachments if a.inline and a.content_id and f"cid:{a.content_id}" in html]


def conversation_quotes(conversation: Sequence[Message], ticket: Ticket) -> dict[int, SafeString]:
    """For each agent reply of a conversation shown in order, the quote its email carried
    (the same choice as `quoted_message`, from the messages already read: no query)."""
    quotes: dict[int, SafeString] = {}
    last: Message | None = None
    for message in conversation:
        if message.is_agent_reply and last is not None:
            quotes[message.pk] = quote_html(last, ticket)
        if quotable(message):
            last = message
    return quotes
