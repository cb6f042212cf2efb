"""Quoted history and signatures, folded away in the view and never deleted.

The stored body keeps every byte the customer sent; these functions only decide which
parts the conversation view shows collapsed behind a "show quoted text" toggle.
"""

from __future__ import annotations

import re

from django.template.defaultfilters import linebreaks_filter
from django.utils.safestring import SafeString, mark_safe

from helpdesk.html import html_fill, html_join
from helpdesk.quoting import split_text

_BLOCKQUOTE = re.compile(r"<blockquote\b[^>]*>|</blockquote\s*>", re.I)
SUMMARY = "Show quoted text"


def _details(inner: SafeString) -> SafeString:
    template = '<details class="mail-quoted"><summary>{summary}</summary>{inner}</details>'
    return html_fill(template, summary=SUMMARY, inner=inner)


def _text(text: str) -> SafeString:
    # The |linebreaks filter: the text escaped, in <p> and <br>, marked safe.
    paragraphs = linebreaks_filter(text, autoescape=True)
    return html_fill('<div class="mail-text">{text}</div>', text=paragraphs)


def fold_text(text: str) -> SafeString:
    shown, folded = split_text(text)
    if not folded:
        return _text(shown)
    return html_join([_text(shown), _details(_text(folded))])


def fold_html(sanitized_html: str) -> SafeString:
    """Wrap each outermost <blockquote> of already-sanitized HTML in a <details>."""
    out: list[str] = []
    depth = 0
    position = 0
    start = 0
    for match in _BLOCKQUOTE.finditer(sanitized_html):
        closing = match.group(0).startswith("</")
        if not closing:
            if depth == 0:
                out.append(sanitized_html[position : match.start()])
                start = match.start()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                # Safe: a whole blockquote of the nh3-sanitized input.
                out.append(_details(mark_safe(sanitized_html[start : match.end()])))
                position = match.end()
    out.append(sanitized_html[position if depth == 0 else start :])
    # Safe: the input is nh3-sanitized and only <details> wrappers were added.
    return mark_safe("".join(out))
