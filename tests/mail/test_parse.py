"""Parsing: charsets, encodings, broken MIME, sanitizing, classification."""

from __future__ import annotations

from email import policy

import pytest

from bench.mail import mixed_messages
from tests.mail.conftest import MESSAGES, load
from tests.mail.test_corpus import CORPUS, corpus_messages
from tickets.mail import parse
from tickets.mail.html import block_remote_images, has_remote_images, sanitize_html
from tickets.mail.parse import UnparseableEmail, compute_dedupe_key, parse_message
from tickets.mail.quotes import fold_html, fold_text


def test_plain_message_fields() -> None:
    parsed = parse_message(load("plain.eml"))
    assert parsed.from_address == "li@customer.test"
    assert parsed.from_name == "Li Wei"
    assert parsed.to == ["a@tandem.test"]
    assert parsed.message_id == "plain-1@customer.test"
    assert parsed.subject == "Printer on floor 3 is jammed"
    assert "printer on floor 3 is jammed again" in parsed.body_text
    assert not parsed.is_automated and not parsed.is_bounce


def test_rfc2047_headers_and_latin1_quoted_printable_body() -> None:
    parsed = parse_message(load("latin1_qp.eml"))
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.subject == "Grüße aus Köln"
    assert "Schöne Grüße, die Rechnung für März fehlt." in parsed.body_text


def test_raw_8bit_header_and_unknown_charset_are_decoded_not_dropped() -> None:
    parsed = parse_message(load("raw_8bit_crlf.eml"))
    assert "t\u00e9" in parsed.subject or "\ufffd" not in parsed.subject
    assert "Caf\u00e9 cr\u00e8me" in parsed.body_text
    assert "\x00" not in parsed.body_text


def test_html_is_sanitized_and_remote_images_blocked() -> None:
    parsed = parse_message(load("html_remote_image.eml"))
    html = parsed.body_html
    assert "<script" not in html and "alert(1)" not in html
    assert "onclick" not in html and "javascript:" not in html
    assert 'data-src="https://tracker.example/pixel.gif"' in html
    assert ' src="https://tracker.example' not in html
    assert has_remote_images(html)
    assert parsed.body_text == "Why was I charged twice?"
    assert parsed.cc == ["boss@other.test"]


@pytest.mark.parametrize(
    "src",
    [
        " https://t.example/a.gif",
        "\thttps://t.example/a.gif",
        "ht&#x09;tp://t.example/a.gif",
        "https:/t.example/a.gif",
        "https:\\\\t.example/a.gif",
        "HTTPS://t.example/a.gif",
        "//t.example/a.gif",
        "http&#58;//t.example/a.gif",
        "/relative.gif",
    ],
)
def test_every_image_address_a_browser_would_fetch_is_held_back(src: str) -> None:
    # Each of these loads from t.example (or from us) in a browser, which drops the spaces,
    # tabs and extra or missing slashes.
    html = sanitize_html(f'<p>Hi <img alt="a>b" src="{src}"></p>')
    assert 'src=""' in html and "data-src=" in html and has_remote_images(html)
    assert block_remote_images(html) == html  # the view applies it again


def test_inline_and_data_images_show_at_once() -> None:
    html = sanitize_html('<img src="cid:shot@x"><img src=" data:image/png;base64,iVBO">')
    assert "data-src" not in html and not has_remote_images(html)


def test_attacker_cannot_smuggle_data_src() -> None:
    assert "data-src" not in sanitize_html('<img data-src="https://x.test/a.png" src="cid:a">')


def test_text_version_always_exists_for_html_only_mail() -> None:
    parsed = parse_message(load("inline_cid.eml"))
    assert parsed.body_text.startswith("See the screenshot:")


def test_inline_image_and_named_attachment() -> None:
    parsed = parse_message(load("inline_cid.eml"))
    by_type = {a.content_type: a for a in parsed.attachments}
    image = by_type["image/png"]
    assert image.inline and image.content_id == "shot1@customer.test"
    assert image.content.startswith(b"\x89PNG")
    pdf = by_type["application/pdf"]
    assert pdf.filename == "Résumé.pdf" and not pdf.inline
    assert 'src="cid:shot1@customer.test"' in parsed.body_html


def test_auto_reply_and_bounce_are_recognized() -> None:
    auto = parse_message(load("auto_reply.eml"))
    assert auto.is_automated and not auto.is_bounce
    bounce = parse_message(load("bounce.eml", BOUNCED_ID="out-1@tandem.test"))
    assert bounce.is_bounce and bounce.is_automated
    assert "out-1@tandem.test" in bounce.bounced_message_ids
    assert "550 5.1.1" in bounce.bounce_diagnostic


def test_no_headers_is_unparseable() -> None:
    with pytest.raises(UnparseableEmail):
        parse_message(load("no_headers.eml"))
    with pytest.raises(UnparseableEmail):
        parse_message(b"")


def test_dedupe_key_ignores_trace_headers_and_line_endings_but_not_content() -> None:
    raw = load("plain.eml")
    redelivered = b"Received: from mx by mx2; Tue, 3 Nov 2026\r\n" + raw.replace(b"\n", b"\r\n")
    assert compute_dedupe_key(raw) == compute_dedupe_key(redelivered)
    assert compute_dedupe_key(raw) != compute_dedupe_key(load("variant_same_message_id.eml"))


def test_quotes_and_signatures_fold_but_stay() -> None:
    parsed = parse_message(load("reply.eml"))
    html = fold_text(parsed.body_text)
    assert html.startswith('<div class="mail-text"><p>It is working again')
    assert "<details" in html and "&gt; the printer on floor 3" in html
    folded = fold_html("<p>new</p><blockquote>old<blockquote>older</blockquote></blockquote>")
    assert folded.count("<details") == 1 and "older" in folded


def test_shared_header_parsing_reads_every_message_like_policy_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raws = [(MESSAGES / name).read_bytes() for name in sorted(p.name for p in MESSAGES.iterdir())]
    raws += [raw for _, raw in corpus_messages()] if CORPUS.is_dir() else []
    raws += mixed_messages(40, "hdr", "a@tandem.test")

    def parse_all() -> list[object]:
        out: list[object] = []
        for raw in raws:
            try:
                out.append(parse.parse_message(raw))
            except parse.UnparseableEmail as exc:
                out.append(str(exc))
        return out

    shared = parse_all()
    # Twice: the second pass reads headers from the cache the first one filled.
    assert parse_all() == shared
    monkeypatch.setattr(parse, "PARSE_POLICY", policy.default)
    assert parse_all() == shared
