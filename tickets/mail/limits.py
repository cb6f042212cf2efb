"""Safety limits checked on the raw bytes before the parser sees them.

The standard library's header parser and nh3's HTML tree builder take time and memory
that grow faster than the input: a 371 KB Subject of encoded words took 3.7 GB, 2.9 MB
of RFC 2231 parameters, a From with 100,000 addresses or 2.2 MB of nested <div> each
took minutes. What they are given is therefore bounded first, with a few linear scans:
each header block (the message's and every MIME part's), each header field in it, its
encoded words and parameters, the number of parts and the HTML body's size and depth.
A message over a limit is quarantined with a reason that names it and its setting
(`OverLimit`). Parsing then runs in a child process with a memory and CPU limit
(tickets/mail/sandbox.py) for whatever these scans do not foresee.

The defaults are far above any real message in tests/mail/messages and the shared corpus.
"""

from __future__ import annotations

import itertools
import re

from django.conf import settings

_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.I)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
# A header field starts at a line that does not begin with white space.
_FIELD_START = re.compile(rb"(?m)^(?=[^ \t\r\n])")
_ENCODED_WORD = re.compile(rb"=\?[^?\s]{1,40}\?[bBqQ]\?")
# A parameter of a structured header (Content-Type, Content-Disposition): "; name=".
_PARAMETER = re.compile(rb";\s*[\w*.-]+\s*=")
_FIELD_NAME = re.compile(rb"[^:\s]{1,80}")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,20})[^>]*?(/?)>")
# Elements with no end tag, and ones whose end tag browsers (and nh3) infer: they do not
# nest, so an unclosed <p> or <td> does not count as a level.
_NOT_NESTING = frozenset(
    (
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"),
        *("source", "track", "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option"),
        *("thead", "tbody", "tfoot", "colgroup"),
    )
)


class OverLimit(ValueError):
    """The message is over a safety limit; the text says which, by how much, and the
    setting that raises it."""


def _limit(name: str) -> int:
    return int(getattr(settings, name))


def _over(what: str, name: str) -> OverLimit:
    return OverLimit(f"{what}; the limit is {_limit(name):,} ({name}).")


def check_raw(raw: bytes) -> None:
    """Raise OverLimit when a header block, a header, its encoded words or parameters,
    or the number of MIME parts is over its setting."""
    boundaries = {a or b for a, b in _BOUNDARY.findall(raw[: 4 * 1024 * 1024])}
    starts = [0]
    if boundaries:
        delimiters = b"|".join(re.escape(b) for b in sorted(boundaries)[:1000])
        for found in re.finditer(rb"(?m)^--(?:" + delimiters + rb")(--)?[ \t]*\r?$", raw):
            if found.group(1) is None:
                starts.append(found.end() + (1 if raw[found.end() : found.end() + 1] else 0))
    parts = len(starts) - 1
    if parts > _limit("MAIL_MAX_PARTS"):
        raise _over(f"Too many MIME parts: {parts:,}", "MAIL_MAX_PARTS")
    block_limit = _limit("MAIL_MAX_HEADER_BYTES")
    for start in starts:
        if raw.startswith((b"\r\n", b"\n"), start):
            continue  # a part with no headers
        blank = _BLANK_LINE.search(raw, start, start + block_limit + 4)
        end = blank.start() if blank else min(len(raw), start + block_limit + 1)
        if end - start > block_limit:
            where = "the message's" if start == 0 else "a MIME part's"
            raise _over(
                f"Header block too large: {where} headers are {end - start:,} bytes or more",
                "MAIL_MAX_HEADER_BYTES",
            )
        _check_fields(raw[start:end])


def _check_fields(block: bytes) -> None:
    field_limit = _limit("MAIL_MAX_HEADER_FIELD_BYTES")
    words_limit = _limit("MAIL_MAX_ENCODED_WORDS")
    params_limit = _limit("MAIL_MAX_HEADER_PARAMETERS")
    edges = [m.start() for m in _FIELD_START.finditer(block)] + [len(block)]
    words = 0
    for start, end in itertools.pairwise(edges):
        field = block[start:end]
        named = _FIELD_NAME.match(field)
        name = named[0].decode("latin-1") if named else "a header"
        if end - start > field_limit:
            raise _over(
                f"Header too long: {name} is {end - start:,} bytes", "MAIL_MAX_HEADER_FIELD_BYTES"
            )
        words += len(_ENCODED_WORD.findall(field))
        if words > words_limit:
            raise _over(
                f"Too many encoded words (=?charset?...?=) in one header block: {words:,} "
                f"by the end of {name}",
                "MAIL_MAX_ENCODED_WORDS",
            )
        params = len(_PARAMETER.findall(field))
        if params > params_limit:
            raise _over(
                f"Too many parameters in one header: {name} has {params:,}",
                "MAIL_MAX_HEADER_PARAMETERS",
            )


def check_html(html: str) -> None:
    """Raise OverLimit when an HTML body is over MAIL_MAX_HTML_BYTES or nests elements
    deeper than MAIL_MAX_HTML_DEPTH (nh3's tree builder slows down with depth)."""
    size = len(html)
    if size > _limit("MAIL_MAX_HTML_BYTES"):
        raise _over(f"HTML body too large: {size:,} characters", "MAIL_MAX_HTML_BYTES")
    depth_limit = _limit("MAIL_MAX_HTML_DEPTH")
    open_tags: list[str] = []
    for closing, name, self_closing in _TAG.findall(html):
        name = name.lower()
        if name in _NOT_NESTING or self_closing:
            continue
        if not closing:
            open_tags.append(name)
            if len(open_tags) > depth_limit:
                raise _over(
                    f"HTML nested too deep: more than {depth_limit:,} levels of elements",
                    "MAIL_MAX_HTML_DEPTH",
                )
        elif name in open_tags:
            # A stray end tag closes up to its element, as a browser does.
            while open_tags and open_tags.pop() != name:
                pass
