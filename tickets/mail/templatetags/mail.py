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


@register.filter
def message_html(message: Message) -> SafeString:
    """The stored sanitized HTML with cid: images pointed at our attachment view."""
    by_cid = {a.content_id: a.pk for a in message.attachments.all() if a.content_id}

    def point(match: re.Match[str]) -> str:
        pk = by_cid.get(match.group(1))
        if pk is None:
            return 'src=""'
        return f'src="{reverse("tickets:attachment", args=[message.ticket_id, pk])}"'

    # Blocked again here: HTML stored before the blocking was complete must not load
    # remote images either (before the cid: mapping, which makes our own URLs).
    return fold_html(_CID_SRC.sub(point, block_remote_images(message.body_html)))


@register.filter
def message_text(message: Message) -> SafeString:
    return fold_text(message.body_text)


@register.filter
def blocks_remote_images(message: Message) -> bool:
    return has_remote_images(block_remote_images(message.body_html))
