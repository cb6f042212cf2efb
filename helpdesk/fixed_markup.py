"""`{% fixed %}`: markup rendered once per process for each language, URL prefix and value
of its keys, with holes filled per request (registered by tickets/templatetags/tandem.py).

A page's fixed markup (labels, hints, `{% translate %}`, URLs) costs a template node or a
translation lookup each time it renders: ~100 translations and ~200 variables on the
ticket page. Rendered once with a stand-in in each hole, cut where the stand-ins came out
and filled with escaped values, the same markup costs a dictionary lookup and a join.
"""

from __future__ import annotations

import html
import re
from typing import Any

from django.template import Context, Node, NodeList, TemplateSyntaxError
from django.template.base import (
    FilterExpression,
    Parser,
    Token,
    render_value_in_context,
    token_kwargs,
)
from django.urls import get_script_prefix
from django.utils.safestring import SafeString
from django.utils.translation import get_language

# A hole's stand-in while a `{% fixed %}` block renders once: its index between two private-use
# characters, or for a whole number (which `fast_url` wants as an int) a number no page shows.
_TEXT_HOLE = "\ue000{}\ue001"
_NUMBER_HOLE = 7_390_218_000
_escape = html.escape
_HOLE = re.compile("\ue000(\\d+)\ue001|7390218(\\d{3})")
# The renderings a block keeps (a few per language and key); past that the oldest go.
_FIXED_KEPT = 64
# True: every block renders as plain markup each time, its holes as context variables
# (what the templates gave before the blocks; the tests compare the two).
PLAIN = False


class _FixedNode(Node):
    def __init__(
        self,
        nodelist: NodeList,
        keys: list[FilterExpression],
        holes: dict[str, FilterExpression],
    ) -> None:
        self.nodelist = nodelist
        self.keys = keys
        self.holes = holes
        self.rendered: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def render(self, context: Context) -> str:
        values = [hole.resolve(context) for hole in self.holes.values()]
        if PLAIN:
            with context.push(dict(zip(self.holes, values, strict=True))):
                return self.nodelist.render(context)
        numbers = tuple(type(value) is int for value in values)
        key = (
            get_language(),
            get_script_prefix(),
            numbers,
            *(expression.resolve(context) for expression in self.keys),
        )
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = self._render_once(context, numbers)
            if len(self.rendered) > _FIXED_KEPT:
                self.rendered.pop(next(iter(self.rendered)), None)
        texts, order = found
        if not order:
            return texts[0]
        # Text as `{{ value }}` prints it (escape() is this), without its checks for a
        # date or a number to localize; anything else goes the template's way.
        escaping = context.autoescape
        filled = [
            _escape(value)
            if escaping and type(value) is str
            else render_value_in_context(value, context)
            for value in values
        ]
        parts = [texts[0]]
        for index, text in zip(order, texts[1:], strict=True):
            parts += (filled[index], text)
        return SafeString("".join(parts))

    def _render_once(
        self, context: Context, numbers: tuple[bool, ...]
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The block with a stand-in in each hole, cut where the stand-ins came out."""
        marks = {
            name: _NUMBER_HOLE + index if number else _TEXT_HOLE.format(index)
            for index, (name, number) in enumerate(zip(self.holes, numbers, strict=True))
        }
        with context.push(marks):
            pieces = _HOLE.split(self.nodelist.render(context))
        texts = tuple(pieces[::3])
        order = tuple(
            int(text if text is not None else number)
            for text, number in zip(pieces[1::3], pieces[2::3], strict=True)
        )
        return texts, order


def fixed(parser: Parser, token: Token) -> _FixedNode:
    """`{% fixed [key ...] [name=value ...] %}…{% endfixed %}`: markup rendered once per
    process for each language, URL prefix and value of the keys, with holes filled per
    request. The keyboard help, the layout's fixed links and the ticket page's forms cost
    ~150 translation lookups and variables a page otherwise.

    Inside, only the keys (whose values select a rendering: a flag, a status) and the
    holes may vary: text, `{% translate %}`, `{% cached_url %}`, the choices' labels of
    tickets/labels.py, and the holes. A hole `name=value` is printed where the block
    says `{{ name }}`, or passes whole to a tag that prints it (`{% fast_url … name %}`,
    `{% blocktranslate with x=name %}`, `{% csrf_token %}` as `csrf_token=csrf_token`),
    escaped like `{{ value }}`; never tested or filtered inside (work out `x|ago` as the
    hole's value)."""
    bits = token.split_contents()[1:]
    keys = []
    while bits and "=" not in bits[0]:
        keys.append(parser.compile_filter(bits.pop(0)))
    holes = token_kwargs(bits, parser)
    if bits:
        raise TemplateSyntaxError(f"fixed: keys go before the holes: {bits}")
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    return _FixedNode(nodelist, keys, holes)
