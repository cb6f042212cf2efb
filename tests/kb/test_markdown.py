from kb.services import render_markdown


def test_markdown_renders_and_sanitizes() -> None:
    html, text = render_markdown(
        "## Steps\n\n1. Open [settings](https://example.test/s)\n2. Press **Save**\n\n"
        '<script>alert(1)</script><img src=x onerror="alert(2)">\n\n'
        "[bad](javascript:alert(3))\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h2>Steps</h2>" in html
    assert "<strong>Save</strong>" in html
    assert '<a href="https://example.test/s" rel="noopener noreferrer nofollow">' in html
    assert "<table>" in html
    assert "script" not in html
    assert "onerror" not in html
    assert "javascript:" not in html
    assert ">bad<" in html  # the link's text stays, its javascript: target does not
    assert text.startswith("Steps Open settings Press Save")
    assert "<" not in text
