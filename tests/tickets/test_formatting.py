"""The reply renderer: Markdown to sanitized HTML (tickets/formatting.py)."""

from __future__ import annotations

import pytest

from tickets.formatting import inline_image_names, render_reply, reply_text


def test_formatting_bold_italic_lists_links_code_quotes() -> None:
    html = render_reply(
        "Hi **Li**, _sorry_ about that.\nSecond line\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n"
        "> what you wrote\n\n"
        "See [the guide](https://help.example.com/guide) or https://example.com, "
        "`code` and\n\n```\nblock\n```"
    )
    assert "<strong>Li</strong>" in html and "<em>sorry</em>" in html
    # Newlines are line breaks, as in an email.
    assert "about that.<br>\nSecond line" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>" in html
    assert "<blockquote>\n<p>what you wrote</p>\n</blockquote>" in html
    assert '<a href="https://help.example.com/guide" rel="noopener noreferrer nofollow">' in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">' in html
    assert "<code>code</code>" in html and "<pre><code>block\n</code></pre>" in html


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<iframe src="https://evil.test/"></iframe>',
    "<svg onload=alert(1)><circle/></svg>",
    '<p onclick="alert(1)" style="background:url(https://evil.test/)">x</p>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.test/"><input name=x></form>',
    "![pixel](https://evil.test/track.png)",
    '<a href="cid:part@x">a part</a>',
    '<object data="https://evil.test/x.swf"></object>',
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_stripped(payload: str) -> None:
    html = render_reply(f"Hello\n\n{payload}\n\nBye").lower()
    for bad in (
        "<script",
        "alert(1)</script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "data:text",
        "<iframe",
        "<svg",
        "<style",
        "<form",
        "<input",
        "<object",
        "evil.test",
        'href="cid:',
        "style=",
    ):
        assert bad not in html, (payload, html)
    assert "hello" in html and "bye" in html


def test_inline_images_point_at_their_parts_and_nothing_else_loads() -> None:
    source = "Look:\n![the screen](attachment:image-1a2b.png)\n![gone](attachment:nope.png)"
    assert inline_image_names(source) == ["image-1a2b.png", "nope.png"]
    html = render_reply(source, {"image-1a2b.png": "abc123@tandem.test"})
    assert '<img src="cid:abc123@tandem.test" alt="the screen">' in html
    # An image naming no attached file keeps its words, not an address.
    assert '<img alt="gone">' in html
    assert reply_text(source) == "Look:\n[image: the screen]\n[image: gone]"
