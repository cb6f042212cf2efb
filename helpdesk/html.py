"""The one way Python builds an HTML fragment: a constant template whose `{name}` fields
are filled with escaped values (`html_fill`), and safe fragments joined (`html_join`).
Pages are templates; this is for the fragments a template loop makes too slow (the
inbox's 50 rows and its agent options, the dashboards' SVG charts) or that a value
carries (a search hit's highlighted snippet, also an API field).

`html_fill` is django.utils.html.format_html with named fields and without its check of
every argument for a lazy translation string (keep_lazy), which costs more than the
escaping: an option list of 42 agents took 0.5 ms with format_html_join and 0.04 ms so,
and the inbox's rows as a template loop 10.5 ms of CPU against 6.5 ms so (50 rows, the
seeded bench database). The output is the same: html.escape is what Django's escape
calls, and a value that is already safe (`__html__`) goes in as it is.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django.utils.safestring import SafeString

_escape = html.escape


def _escaped(value: Any) -> str:
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value))


def html_fill(template: str, /, **values: Any) -> SafeString:
    """`template` (markup we wrote, never input) with each `{name}` replaced by the value
    of that name, escaped unless it is safe already (a fragment made here)."""
    # Plain text, the common case, is escaped inline: a call per value would cost more.
    return SafeString(
        template.format_map(
            {name: _escape(v) if type(v) is str else _escaped(v) for name, v in values.items()}
        )
    )


def html_join(fragments: Iterable[Any]) -> SafeString:
    """The fragments one after the other; any that is not safe already is escaped."""
    return SafeString("".join(_escaped(fragment) for fragment in fragments))


def marked(text: str, start: str, stop: str) -> SafeString:
    """`text` escaped, with each span between the markers `start` and `stop` (those that
    PostgreSQL's ts_headline put around the matches) in <mark>."""
    head, *rest = text.split(start)
    spans = (span.partition(stop) for span in rest)
    marks = (html_fill("<mark>{hit}</mark>{tail}", hit=hit, tail=tail) for hit, _, tail in spans)
    return html_join([head, *marks])
