"""Raw RFC 822 bytes to a ParsedEmail, whatever the charset, encoding or MIME damage.

Everything here degrades instead of raising: an unknown charset falls back to a
best-effort decode, a header the modern parser chokes on is read raw, a broken part
becomes an attachment. Only a message with no usable headers at all is reported as
unparseable (UnparseableEmail), and ingest quarantines it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from functools import lru_cache

from tickets.mail.html import html_to_text, sanitize_html
from tickets.mail.limits import check_html, check_raw

MSGID_RE = re.compile(r"<([^<>\s]+)>")
# An mbox separator ("From sender date"), not a From header in obsolete syntax ("From : x").
_FROM_LINE = re.compile(rb"^From (?![ \t]*:)[^\r\n]*\r?\n")
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
# Headers that identify one message as the sender wrote it. Trace headers (Received,
# Return-Path, Delivered-To, DKIM, spam scores) change on every redelivery and are left
# out, so the same message fetched twice, or through two doors, has one key.
IDENTITY_HEADERS = (
    "message-id",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "precedence",
    "list-id",
    "x-mailer",
    "user-agent",
    "importance",
    "x-priority",
    "x-original-sender",
)
KEPT_HEADERS = (
    "Date",
    "Reply-To",
    "Sender",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    # Bulk mail (tickets.services.courtesy.bulk_mail_reason).
    "List-Unsubscribe",
    "X-Autoreply",
    "X-Autorespond",
    "Return-Path",
    "Delivered-To",
    "X-Original-To",
)
# Authentication-Results headers read (topmost first): our servers write one to three.
AUTH_RESULTS_KEPT = 10
CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "gb2312": "gb18030",
    "iso-gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "utf8": "utf-8",
    "unknown-8bit": "cp1252",
    "x-unknown": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)\b", re.I)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status )?notification|delivery fail|failure notice|returned mail|"
    r"mail delivery (failed|system)|could not be delivered|nondeliverable|non-delivery",
    re.I,
)
MAX_ADDRESSES = 100


class _SharedClassRegistry(HeaderRegistry):
    """The stdlib registry builds a new class for every header it parses (a third of
    the parsing time); this one builds each header class once."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[type, type] = {}

    def __getitem__(self, name: str) -> type:
        cls = self.registry.get(name.lower(), self.default_class)
        built = self._built.get(cls)
        if built is None:
            built = self._built[cls] = type("_" + cls.__name__, (cls, self.base_class), {})
        return built


_HEADERS = EmailPolicy(header_factory=_SharedClassRegistry())


@lru_cache(maxsize=2048)
def _parsed_header(name: str, value: str) -> BaseHeader:
    return _HEADERS.header_fetch_parse(name, value)


class _ParsePolicy(EmailPolicy):
    """policy.default, except that a header read twice (Content-Type is read four times
    while walking a part) or the same in many messages is parsed once. Header objects are
    immutable, so sharing them changes nothing but the time."""

    def header_fetch_parse(self, name: str, value: str) -> BaseHeader:
        if hasattr(value, "name") or len(value) > 300:
            return _HEADERS.header_fetch_parse(name, value)
        return _parsed_header(name, value)


PARSE_POLICY = _ParsePolicy(header_factory=_HEADERS.header_factory)


class UnparseableEmail(ValueError):
    """The bytes are not an email message we can make sense of; the text is the reason."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    subject: str
    from_address: str
    from_name: str
    reply_to: list[tuple[str, str]]
    sender: str
    to: list[str]
    cc: list[str]
    envelope_recipients: list[str]
    in_reply_to: list[str]
    references: list[str]
    body_text: str
    body_html: str
    attachments: list[ParsedAttachment]
    headers: dict[str, str]
    dedupe_key: str
    is_automated: bool = False
    automated_reason: str = ""
    is_bounce: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    bounce_diagnostic: str = ""
    tandem_ticket: str = ""
    # Authentication-Results values, topmost first (tickets/mail/sender_auth.py reads
    # the ones our own server wrote).
    authentication_results: list[str] = field(default_factory=list)
    # The Content-Language header (the customer's language, kept at intake).
    content_language: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, nearest first (In-Reply-To, then References)."""
        return list(dict.fromkeys([*self.in_reply_to, *reversed(self.references)]))

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc, *self.envelope_recipients]))


def clean_text(value: str) -> str:
    """Text PostgreSQL will store: raw 8-bit bytes decoded, NULs removed."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("cp1252", "replace")
    return value.replace("\x00", "")


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then UTF-8, then Windows-1252, never raising."""
    candidates = []
    if charset:
        name = charset.strip().strip('"').lower()
        candidates.append(CHARSET_ALIASES.get(name, name))
    candidates += ["utf-8", "cp1252"]
    for name in candidates:
        try:
            codecs.lookup(name)
            return payload.decode(name).replace("\x00", "")
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1").replace("\x00", "")


def _decode_header_raw(raw: str) -> str:
    """RFC 2047 decoding by hand, for headers the policy.default parser cannot read."""
    try:
        parts = decode_header(raw)
    except Exception:
        return clean_text(raw)
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(clean_text(chunk))
    return "".join(out)


def header_text(msg: Message, name: str) -> str:
    """One header as text; never raises, whatever the header holds."""
    try:
        value = msg.get(name)
        if value is None:
            return ""
        text = str(value)
    except MemoryError:
        raise  # not a defect of the header: the parsing child's limit (sandbox.py)
    except Exception:
        text = "\ufffd"
    if "\ufffd" in text:
        # The modern parser replaced raw 8-bit bytes; decode them from the source instead.
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                text = _decode_header_raw(raw)
                break
        else:
            return ""
    return " ".join(clean_text(text).split())


def header_all(msg: Message, name: str) -> list[str]:
    try:
        values = msg.get_all(name) or []
        return [" ".join(clean_text(str(v)).split()) for v in values]
    except MemoryError:
        raise
    except Exception:
        return [
            " ".join(_decode_header_raw(raw).split())
            for key, raw in msg.raw_items()
            if key.lower() == name.lower()
        ]


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = []
    for name, address in pairs:
        address = address.strip().strip("<>").strip()
        if "@" in address and len(address) <= 254 and not any(c.isspace() for c in address):
            found.append((name.strip()[:200], address.lower()))
        if len(found) >= MAX_ADDRESSES:
            break
    return found


def address_list(msg: Message, name: str) -> list[tuple[str, str]]:
    return _addresses(header_all(msg, name))


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header, without angle brackets; tolerates commas and bare ids."""
    found = MSGID_RE.findall(value)
    if not found and value.strip() and "@" in value:
        found = [token.strip("<>,") for token in value.replace(",", " ").split()]
    return [mid[:998] for mid in dict.fromkeys(f for f in found if "@" in f)]


def split_raw(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body of raw bytes, whatever the line endings."""
    match = re.search(rb"\r?\n\r?\n|\r\r", raw)
    if match is None:
        return raw, b""
    return raw[: match.start()], raw[match.end() :]


def strip_from_line(raw: bytes) -> bytes:
    """Drop an mbox "From " separator line, which is not a header."""
    return _FROM_LINE.sub(b"", raw, count=1) if raw.startswith(b"From ") else raw


# Obsolete syntax (RFC 5322 4.5): white space between a header's name and its colon.
_OBS_HEADER_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(rb"\A(?:[ \t]*\r?\n)+")


def lenient_headers(raw: bytes) -> bytes:
    """What a lenient reader takes: blank lines before the headers are dropped, and a
    header written "From  : John" (obsolete syntax) reads as "From: John"."""
    raw = _LEADING_BLANK_LINES.sub(b"", raw)
    head, _ = split_raw(raw)
    fixed = _OBS_HEADER_NAME.sub(rb"\1:", head)
    return raw if fixed == head else fixed + raw[len(head) :]


def normalize_line_endings(raw: bytes) -> bytes:
    # A few real messages use bare CR; the parser only knows LF and CRLF.
    if b"\r" in raw and b"\n" not in raw:
        return raw.replace(b"\r", b"\n")
    return raw


def compute_dedupe_key(raw: bytes) -> str:
    """Same key for a redelivery of one message, different keys for variants.

    Some senders (and test suites) reuse one Message-ID for different messages, so the
    Message-ID alone would drop real mail. The key hashes the sender-side identity
    headers and the body, ignoring trace headers and line-ending differences.
    """
    head, body = split_raw(raw)
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", head)
    picked: list[bytes] = []
    for line in re.split(rb"\r?\n", unfolded):
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower().decode("latin-1") in IDENTITY_HEADERS:
            picked.append(name.strip().lower() + b":" + b" ".join(value.split()))
    picked.sort()
    body_lines = [line.rstrip() for line in re.split(rb"\r\n|\r|\n", body)]
    digest = hashlib.sha256(b"\n".join(picked) + b"\n\n" + b"\n".join(body_lines).rstrip())
    return "sha256:" + digest.hexdigest()


def _part_filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return ""
    return clean_text(_decode_header_raw(name) if "=?" in name else name).strip()[:255]


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(_payload_bytes(part), charset)


def _serialized(part: Message) -> bytes:
    try:
        return part.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    except Exception:
        try:
            return part.as_bytes(policy=policy.compat32)
        except Exception:
            return str(part.get_payload()).encode("utf-8", "replace")


@dataclass
class _Walk:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    embedded_headers: list[Message] = field(default_factory=list)
    report_texts: list[str] = field(default_factory=list)


def _walk(part: Message, out: _Walk, depth: int = 0) -> None:
    ctype = part.get_content_type()
    if depth > 30:
        return
    if ctype == "message/rfc822" or (ctype.startswith("message/") and part.is_multipart()):
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else None
        if ctype == "message/delivery-status":
            blocks = [b for b in inner if isinstance(b, Message)] if isinstance(inner, list) else []
            out.report_texts.append(
                "\n".join(_serialized(b).decode("utf-8", "replace") for b in blocks)
            )
            out.attachments.append(
                ParsedAttachment("delivery-status.txt", "text/plain", _serialized(part))
            )
            return
        if isinstance(inner_msg, Message):
            out.embedded_headers.append(inner_msg)
            subject = header_text(inner_msg, "Subject")
            name = _part_filename(part) or f"{(subject or 'message')[:80]}.eml"
            out.attachments.append(ParsedAttachment(name, "message/rfc822", _serialized(inner_msg)))
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _walk(sub, out, depth + 1)
        return
    disposition = _disposition(part)
    filename = _part_filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (out.texts if ctype == "text/plain" else out.htmls).append(_part_text(part))
        return
    if ctype == "text/rfc822-headers":
        inner = BytesParser(policy=PARSE_POLICY).parsebytes(_payload_bytes(part))
        out.embedded_headers.append(inner)
    if ctype == "message/delivery-status" or ctype == "message/feedback-report":
        out.report_texts.append(_part_text(part))
    content_id = header_text(part, "Content-ID").strip().strip("<>")[:255]
    if not filename:
        ext = {"text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics"}.get(ctype, "")
        if not ext and "/" in ctype:
            ext = "." + re.sub(r"[^a-z0-9]", "", ctype.split("/")[1])[:8]
        filename = f"{'inline' if content_id else 'attachment'}-{len(out.attachments) + 1}{ext}"
    out.attachments.append(
        ParsedAttachment(
            filename=filename,
            content_type=ctype[:255],
            content=_payload_bytes(part),
            content_id=content_id,
            inline=bool(content_id) and disposition != "attachment",
        )
    )


def _automated(msg: Message) -> str:
    """Why this message was sent by a machine (RFC 3834 and common practice), or ""."""
    auto_submitted = header_text(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Response"):
        if header_text(msg, name):
            return name
    precedence = header_text(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if header_text(msg, "List-Id"):
        return "List-Id"
    if header_text(msg, "Return-Path").replace(" ", "") == "<>":
        return "empty return path"
    if msg.get_content_type() == "multipart/report":
        return "report"
    return ""


def _is_bounce(msg: Message, from_address: str, subject: str) -> bool:
    try:
        report_type = (msg.get_param("report-type") or "").lower()  # type: ignore[union-attr]
    except Exception:
        report_type = ""
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return True
    if BOUNCE_SENDERS.match(from_address):
        return True
    empty_path = header_text(msg, "Return-Path").replace(" ", "") == "<>"
    return (empty_path or not from_address) and bool(BOUNCE_SUBJECT.search(subject))


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse raw bytes; raise UnparseableEmail only when there is nothing to work with."""
    raw = lenient_headers(strip_from_line(normalize_line_endings(raw)))
    head, _ = split_raw(raw)
    first_line = head.split(b"\n", 1)[0]
    if not raw.strip() or not _HEADER_LINE.match(first_line.lstrip()):
        raise UnparseableEmail("No email headers: the data does not start with a header line.")
    check_raw(raw)
    msg = BytesParser(policy=PARSE_POLICY).parsebytes(raw)
    if not list(msg.raw_items()):
        raise UnparseableEmail("No email headers could be read.")

    from_pairs = address_list(msg, "From")
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    sender_pairs = address_list(msg, "Sender")
    subject = header_text(msg, "Subject")[:998]

    walk = _Walk()
    _walk(msg, walk)
    html_source = "\n".join(walk.htmls)
    check_html(html_source)
    body_html = sanitize_html(html_source) if html_source.strip() else ""
    body_text = "\n\n".join(t.strip("\n") for t in walk.texts if t.strip())
    if not body_text and html_source:
        body_text = html_to_text(html_source)

    references = message_ids(" ".join(header_all(msg, "References")))
    in_reply_to = message_ids(" ".join(header_all(msg, "In-Reply-To")))
    own_ids = message_ids(header_text(msg, "Message-ID"))

    headers: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = header_text(msg, name)
        if value:
            headers[name] = value[:2000]

    automated = _automated(msg)
    is_bounce = _is_bounce(msg, from_address, subject)
    bounced: list[str] = []
    if is_bounce:
        for embedded in walk.embedded_headers:
            bounced += message_ids(header_text(embedded, "Message-ID"))
        text_blob = "\n".join([body_text, *walk.report_texts])
        for match in re.finditer(r"(?im)^\s*>?\s*message-id:\s*(<[^>]+>)", text_blob):
            bounced += message_ids(match.group(1))
        bounced += in_reply_to + references
    diagnostic = ""
    for report in walk.report_texts:
        found = re.search(r"(?im)^diagnostic-code:\s*(.+(?:\n[ \t].+)*)", report)
        if found:
            diagnostic = " ".join(found.group(1).split())[:1000]
            break

    return ParsedEmail(
        message_id=own_ids[0] if own_ids else "",
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        reply_to=address_list(msg, "Reply-To"),
        sender=sender_pairs[0][1] if sender_pairs else "",
        to=[a for _, a in address_list(msg, "To")],
        cc=[a for _, a in address_list(msg, "Cc")],
        envelope_recipients=[
            a
            for name in ("Delivered-To", "X-Original-To", "Envelope-To")
            for _, a in address_list(msg, name)
        ],
        in_reply_to=in_reply_to,
        references=references,
        body_text=clean_text(body_text),
        body_html=clean_text(body_html),
        attachments=walk.attachments,
        headers=headers,
        content_language=header_text(msg, "Content-Language")[:100],
        dedupe_key=compute_dedupe_key(raw),
        is_automated=bool(automated) or is_bounce,
        automated_reason=automated or ("bounce" if is_bounce else ""),
        is_bounce=is_bounce,
        bounced_message_ids=list(dict.fromkeys(bounced)),
        bounce_diagnostic=diagnostic,
        tandem_ticket=header_text(msg, "X-Tandem-Ticket"),
        authentication_results=header_all(msg, "Authentication-Results")[:AUTH_RESULTS_KEPT],
    )
