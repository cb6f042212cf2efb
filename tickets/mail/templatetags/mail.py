"""Showing email bodies (the ticket page's conversation rows, tickets/templatetags/thread.py).

The view should prefetch `attachments` for the messages it shows, so mapping inline
cid: images to attachment URLs costs no query per message.
"""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from tickets.mail.html import block_remote_images, has_remote_images
from tickets.mail.quotes import fold_html, fold_text
from tickets.models import Message

register = template.Library()
_CID_SRC = re.compile(r'src="cid:([^"]+)"', re.I)


def _cid_images_to(message: Message, url_name: str, html: str) -> str:
    """cid: images pointed at the attachment view `url_name` (ticket, attachment)."""
    by_cid = {a.content_id: a.pk for a in message.attachments.all() if a.content_id}

    def point(match: re.Match[str]) -> str:
        pk = by_cid.get(match.group(1))
        if pk is None:
            return 'src=""'
        return f'src="{reverse(url_name, args=[message.ticket_id, pk])}"'

    return _CID_SRC.sub(point, html)


@register.filter
def message_html(message: Message) -> SafeString:
    """The stored sanitized HTML with cid: images pointed at our attachment view."""
    # Blocked again here: HTML stored before the blocking was complete must not load
    # remote images either (before the cid: mapping, which makes our own URLs).
    shown = _cid_images_to(message, "tickets:attachment", block_remote_images(message.body_html))
    if message.is_agent_reply:
        # An agent's blockquote is what they wrote: their email's quote is shown apart
        # (`sent_quote`, tickets/mail/compose.py).
        return SafeString(shown)
    return fold_html(shown)


@register.filter
def portal_reply_html(message: Message) -> SafeString:
    """An agent's formatted reply as the customer sees it in the portal: the sanitized
    HTML of its Markdown (tickets/formatting.py), inline images from the portal's view."""
    shown = _cid_images_to(message, "portal:attachment", block_remote_images(message.body_html))
    return SafeString(shown)


@register.filter
def message_text(message: Message) -> SafeString:
    return fold_text(message.body_text)


@register.filter
def blocks_remote_images(message: Message) -> bool:
    return has_remote_images(block_remote_images(message.body_html))
