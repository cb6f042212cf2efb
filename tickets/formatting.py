"""Agents' replies are Markdown: the reply box's toolbar writes it, this renders it.

`Message.body_text` keeps what the agent wrote (Markdown reads as plain text: the
customer's plain-text part, search, figures); `body_html` is `render_reply` of it,
sanitized, made once when the reply is stored. Signatures are Markdown too.

Newlines are line breaks (an email, not a document), and only what a reply needs is
kept: emphasis, lists, links, code, quotes, headings, tables and inline images. An image
pasted into the reply box travels with the form as an attachment and is written
`![name](attachment:<file name>)`; the reply's service gives that attachment a
Content-ID and the HTML points at `cid:` (tickets/mail/compose.py sends it inline).
"""

from __future__ import annotations

import re
import secrets

from helpdesk.markdown import render_markdown_html

REPLY_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
REPLY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
# Links to the web and mail; images only from the message's own parts (cid:): a reply
# never makes the customer's mail client fetch anything from elsewhere.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
ATTACHMENT_SCHEME = "attachment:"
# `![alt](attachment:name.png)`: the name as the reply box wrote it (no spaces or ")").
_ATTACHMENT_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(attachment:([^)\s]+)\)")


def _only_cid_images(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if tag == "img" and attribute == "src":
        return value if lowered.startswith("cid:") else None
    if attribute == "href" and lowered.startswith("cid:"):
        return None
    return value


def inline_image_names(markdown: str) -> list[str]:
    """The attachment names the reply shows as inline images, each once, in order."""
    return list(dict.fromkeys(name for _, name in _ATTACHMENT_IMAGE.findall(markdown)))


def new_content_id(domain: str) -> str:
    """A Content-ID for an inline part (without angle brackets)."""
    return f"{secrets.token_hex(12)}@{domain or 'tandem.invalid'}"


def render_reply(markdown: str, content_ids: dict[str, str] | None = None) -> str:
    """A reply's Markdown as sanitized HTML. `content_ids` maps the names of its inline
    images (`attachment:<name>`) to their parts' Content-IDs; an image that names no part
    (or anything not cid:) is dropped."""
    ids = content_ids or {}

    def point(match: re.Match[str]) -> str:
        cid = ids.get(match.group(2))
        return f"![{match.group(1)}](cid:{cid})" if cid else f"![{match.group(1)}]()"

    source = _ATTACHMENT_IMAGE.sub(point, markdown)
    return render_markdown_html(
        source,
        tags=REPLY_TAGS,
        attributes=REPLY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        hard_breaks=True,
        attribute_filter=_only_cid_images,
    )


def reply_text(markdown: str) -> str:
    """The reply for a plain-text reader: its Markdown, with inline images named."""
    return _ATTACHMENT_IMAGE.sub(lambda m: f"[image: {m.group(1) or m.group(2)}]", markdown)
