"""helpdesk.html: every value escaped, safe fragments kept, the same text as Django's."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from helpdesk.html import html_fill, html_join, marked

NASTY = """<script>alert('x')</script> & "quotes" """


def test_html_fill_escapes_what_format_html_escapes() -> None:
    filled = html_fill(
        '<a href="{url}" title="{title}">{text}</a>', url="/t/1/", title=NASTY, text=7
    )
    assert isinstance(filled, SafeString)
    assert filled == format_html('<a href="{}" title="{}">{}</a>', "/t/1/", NASTY, 7)
    assert "<script>" not in filled


def test_safe_fragments_go_in_as_they_are() -> None:
    inner = html_fill("<b>{name}</b>", name=NASTY)
    assert html_fill("<p>{inner}</p>", inner=inner) == f"<p><b>{escape(NASTY)}</b></p>"
    assert (
        html_join([inner, NASTY, mark_safe("<br>")]) == f"<b>{escape(NASTY)}</b>{escape(NASTY)}<br>"
    )
    assert html_join([]) == ""


def test_marked_escapes_the_text_around_the_marks() -> None:
    assert marked("a \x01<b>\x02 & \x01c\x02", "\x01", "\x02") == (
        "a <mark>&lt;b&gt;</mark> &amp; <mark>c</mark>"
    )
    assert marked("no match <here>", "\x01", "\x02") == "no match &lt;here&gt;"
