"""Email HTML made safe to show: nh3 allowlist, remote images held back, quotes folded.

Stored `Message.body_html` is the sanitized HTML with every remote image's address
moved from `src` to `data-src`, so nothing loads until the agent asks for it (a tracking
pixel would tell the sender when the mail was read). `cid:` references stay as they are;
the view maps them to the permission-checked attachment URL when it renders.
"""

from __future__ import annotations

import html as html_lib
import re

import nh3

ALLOWED_TAGS = (nh3.ALLOWED_TAGS - {"map", "area"}) | {"font", "center", "tfoot"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "title", "dir", "lang"},
    "font": {"color", "face", "size"},
    "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "width", "valign", "bgcolor"},
    "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "width", "valign", "bgcolor"},
    "table": {*nh3.ALLOWED_ATTRIBUTES["table"], "width", "cellpadding", "cellspacing", "border"},
    "div": {"align"},
    "p": {"align"},
}
# Only presentational CSS: nothing that can carry a URL (background-image, content...),
# so styles cannot fetch remote resources behind the agent's back.
ALLOWED_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-align",
    "text-decoration",
    "vertical-align",
    "white-space",
    "margin",
    "margin-left",
    "margin-right",
    "margin-top",
    "margin-bottom",
    "padding",
    "padding-left",
    "padding-right",
    "padding-top",
    "padding-bottom",
    "border",
    "border-left",
    "border-collapse",
    "width",
    "height",
    "line-height",
    "display",
}
URL_SCHEMES = {"http", "https", "mailto", "cid", "data", "tel"}

# In nh3's output every attribute is name="value" with quotes and > escaped inside values,
# so this finds each image's real src and nothing in another attribute's text.
_IMG_SRC = re.compile(r'(<img\b[^>]*?)\ssrc="([^"]*)"', re.IGNORECASE)
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_EDGES = "".join(chr(code) for code in range(0x21))
SHOWN_AT_ONCE = ("cid:", "data:image/")
_DATA_SRC = re.compile(r"\sdata-src=", re.IGNORECASE)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # data: URIs are fine as inline images, not as link targets.
    if attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    if attribute == "src" and tag == "img":
        lowered = value.strip().lower()
        if lowered.startswith("data:") and not lowered.startswith("data:image/"):
            return None
    return value


def sanitize_html(raw_html: str) -> str:
    """The allowlisted form of email HTML, with remote images blocked (src -> data-src)."""
    cleaned = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return block_remote_images(cleaned)


def shown_at_once(src: str) -> bool:
    """Whether an image's address surely loads nothing from elsewhere: an inline cid: part
    or a data: image. Browsers drop a URL's surrounding spaces and controls and every tab
    or newline inside it, and read "https:/host", "https:\\host" and "//host" as remote,
    so anything else waits for the agent, relative addresses too."""
    cleaned = _URL_IGNORED.sub("", html_lib.unescape(src)).strip(_URL_EDGES).lower()
    return not cleaned or cleaned.startswith(SHOWN_AT_ONCE)


def block_remote_images(cleaned_html: str) -> str:
    """Every image but cid: and data: ones moved from src to data-src; idempotent, so the
    view applies it again to HTML stored by an older, laxer version of this function."""

    def hold(match: re.Match[str]) -> str:
        if shown_at_once(match.group(2)):
            return match.group(0)
        return f'{match.group(1)} src="" data-src="{match.group(2)}" data-remote-image="1"'

    # nh3 never lets data-src through, so every data-src in stored HTML is ours.
    return _IMG_SRC.sub(hold, cleaned_html)


def has_remote_images(stored_html: str) -> bool:
    return bool(_DATA_SRC.search(stored_html))


_BLOCK_END = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\b[^>]*>", re.I)
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def html_to_text(raw_html: str) -> str:
    """A plain-text version of an HTML body, for search, previews and text-only clients."""
    with_breaks = _BLOCK_END.sub(lambda m: m.group(0) + "\n", raw_html)
    text = nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style", "head"})
    text = html_lib.unescape(text).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
