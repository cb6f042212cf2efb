"""Mail benchmarks (part of the tickets section of `make bench`).

- ingest throughput from a directory of 10,000 mixed messages, through the same code
  as `manage.py ingest_email` (target >= 300 messages/s);
- ingest throughput over IMAP from a throwaway Dovecot (target >= 100 messages/s);
- memory while ingesting messages with a 25 MB attachment: resident memory after the
  third such message is no higher than after the first (flat, not growing per message).

Every run uses fresh Message-IDs and sender addresses, so a second run measures new
mail, not duplicates, and no sender reaches the per-sender rate limit.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import tempfile
import time
import uuid
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

from bench.core import Bench
from tickets.mail.dovecot import running_dovecot
from tickets.mail.imap import fetch_mailbox
from tickets.mail.intake import ingest_message
from tickets.models import ActorKind, Mailbox, MailSecurity, TicketEvent
from tickets.workflow import automation

DIRECTORY_MESSAGES, DIRECTORY_TARGET = 10_000, 300
IMAP_MESSAGES, IMAP_TARGET = 2_000, 100
BIG_ATTACHMENT_BYTES = 25 * 1024 * 1024
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def run(bench: Bench) -> None:
    mailbox, _ = Mailbox.objects.get_or_create(
        address="mail-bench@bench.tandem.test", defaults={"name": "Mail bench"}
    )
    media = Path(tempfile.mkdtemp(prefix="tandem-mail-bench-"))
    try:
        with override_settings(MEDIA_ROOT=media):
            _directory(bench, mailbox)
            _imap(bench, mailbox)
            _big_attachment(bench, mailbox)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def mixed_messages(count: int, run_id: str, to: str) -> list[bytes]:
    """Plain, HTML with a remote image and quote, Latin-1, attachments, replies that
    thread onto earlier ones, auto-replies, and a few that must be quarantined."""
    out: list[bytes] = []
    for n in range(count):
        kind = n % 20
        if kind == 19:
            out.append(f"not an email {run_id} {n}\r\n\r\njust text\r\n".encode())
            continue
        msg = EmailMessage()
        msg["From"] = f"Customer {n % 2000} <c{n % 2000}.{run_id}@customers.test>"
        msg["To"] = to
        msg["Message-ID"] = f"<m{n}.{run_id}@customers.test>"
        msg["Date"] = "Tue, 03 Nov 2026 09:15:00 +0000"
        if kind in (3, 8, 13) and n >= 20:
            earlier = f"<m{n - 20}.{run_id}@customers.test>"
            msg["In-Reply-To"], msg["References"] = earlier, earlier
            msg["Subject"] = f"Re: Order {n - 20} question"
        else:
            msg["Subject"] = f"Order {n} question"
        if kind == 17:
            msg["Auto-Submitted"] = "auto-replied"
        body = f"Hello,\n\nmy order {n} has not arrived yet. Could you check?\n\nThanks\n"
        if kind in (1, 6, 11, 16):
            msg.set_content(body)
            msg.add_alternative(
                f"<p>Hello,</p><p>my order <b>{n}</b> has not arrived.</p>"
                f'<img src="https://cdn.example.test/logo.png">'
                f"<blockquote>Earlier message</blockquote>",
                subtype="html",
            )
        elif kind in (2, 12):
            msg.set_content(body.replace("Hello", "Grüße aus Köln"), charset="iso-8859-1")
        elif kind in (4, 14):
            msg.set_content(body)
            msg.add_attachment(PNG, maintype="image", subtype="png", filename="photo.png")
            msg.add_attachment(
                b"%PDF-1.4 invoice " * 200,
                maintype="application",
                subtype="pdf",
                filename="invoice.pdf",
            )
        else:
            msg.set_content(body)
        out.append(msg.as_bytes())
    return out


def _directory(bench: Bench, mailbox: Mailbox) -> None:
    run_id = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="tandem-mail-dir-"))
    try:
        for n, raw in enumerate(mixed_messages(DIRECTORY_MESSAGES, run_id, mailbox.address)):
            (folder / f"{n:05d}.eml").write_bytes(raw)
        out = StringIO()
        last_event = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()
        started = time.perf_counter()
        call_command("ingest_email", str(folder), "--mailbox", mailbox.address, stdout=out)
        seconds = time.perf_counter() - started
        rule_changes = TicketEvent.objects.filter(
            id__gt=last_event or 0, actor_kind=ActorKind.RULE
        ).count()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bench.rate(
        "ingest from a directory",
        DIRECTORY_MESSAGES,
        seconds,
        unit="msg/s",
        target=DIRECTORY_TARGET,
    )
    bench.note(f"ingest_email: {out.getvalue().splitlines()[-1]}")
    # The mix sends five messages per sender, so the active rules act on many of them (the
    # built-in "three support tickets in 30 days" opens a follow-up per sender): their
    # work is part of the time above.
    rules = ", ".join(r.name for r in automation.active_rules()) or "none"
    bench.note(f"active rules: {rules}; changes the rules made during the run: {rule_changes}")


def _imap(bench: Bench, mailbox: Mailbox) -> None:
    run_id = uuid.uuid4().hex[:8]
    user = f"bench-{run_id}"
    with running_dovecot() as dovecot:
        client = dovecot.client(user)
        for raw in mixed_messages(IMAP_MESSAGES, run_id, mailbox.address):
            client.append("INBOX", None, None, raw)
        client.logout()
        Mailbox.objects.filter(pk=mailbox.pk).update(
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security=MailSecurity.NONE,
            imap_user=user,
            imap_password="secret",  # noqa: S106 - the throwaway Dovecot's static password
            imap_uidvalidity=None,
            imap_last_uid=0,
        )
        fetched = 0
        started = time.perf_counter()
        while True:
            mailbox.refresh_from_db()
            batch = fetch_mailbox(mailbox).fetched
            if batch == 0:
                break
            fetched += batch
        seconds = time.perf_counter() - started
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_host="")
    bench.rate("ingest over IMAP (Dovecot)", fetched, seconds, unit="msg/s", target=IMAP_TARGET)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _big_attachment(bench: Bench, mailbox: Mailbox) -> None:
    payload = os.urandom(BIG_ATTACHMENT_BYTES)
    after: list[float] = []
    before = _rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for n in range(3):
        msg = EmailMessage()
        msg["From"] = f"big{n}.{uuid.uuid4().hex[:8]}@customers.test"
        msg["To"] = mailbox.address
        msg["Subject"] = f"Big file {n}"
        msg.set_content("The recording is attached.")
        msg.add_attachment(payload, maintype="video", subtype="mp4", filename="call.mp4")
        raw = msg.as_bytes()
        del msg
        result = ingest_message(raw, mailbox=mailbox, source="bench")
        if result.outcome != "new ticket":
            raise RuntimeError(f"the 25 MB message was not ingested: {result.describe()}")
        del raw
        gc.collect()
        after.append(_rss_mb())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    growth = after[-1] - after[0]
    bench.note(
        f"25 MB attachment x3: resident memory {before:.0f} MB before, "
        f"{', '.join(f'{m:.0f}' for m in after)} MB after each message "
        f"(growth from the 1st to the 3rd: {growth:+.0f} MB; peak {max(peak, peak_before):.0f} MB)"
    )
    if growth > 50:
        raise RuntimeError(f"memory grew by {growth:.0f} MB across three large messages")
