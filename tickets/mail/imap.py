"""Fetching a mailbox over IMAP: UIDs and UIDVALIDITY, a Redis lock, flag after commit.

A poll walks the UIDs above the mailbox's `imap_last_uid` (not the unread flag, not a
date window), one message at a time:
1. fetch the bytes (BODY.PEEK, so fetching itself never marks anything read);
2. ingest them (which commits, or recognizes a duplicate);
3. only then flag the message seen or move it to the processed folder;
4. only then advance `imap_last_uid`.
A worker killed between 2 and 3 leaves the message unflagged and `imap_last_uid` behind
it, so the next poll fetches it again, ingest calls it a duplicate, and the flag is set:
stored once, flagged once. A worker killed before 2 loses nothing either. When the
server's UIDVALIDITY changes, the UIDs mean something new: the poll starts again from
UID 1 and ingest's idempotency absorbs what was already stored.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings

from tickets.mail import redis
from tickets.mail.ingest import Outcome, ingest_message, quarantine
from tickets.models import Mailbox, MailSecurity

logger = logging.getLogger(__name__)

LOCK_SECONDS = 600
BATCH_SIZE = 500
TIMEOUT_SECONDS = 60
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server refused something; the text says what, in plain words."""


@dataclass
class FetchSummary:
    mailbox_id: int
    locked_out: bool = False
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in IMAP connection for the mailbox's settings."""
    context = ssl.create_default_context()
    if mailbox.imap_security == MailSecurity.SSL:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.imap_host, mailbox.imap_port, ssl_context=context, timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
        if mailbox.imap_security == MailSecurity.STARTTLS:
            client.starttls(ssl_context=context)
    client.login(mailbox.imap_user, mailbox.imap_password)
    return client


def _check(typ: str, data: list, what: str) -> list:  # type: ignore[type-arg]
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"The server refused to {what}: {detail or typ}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def select_folder(client: imaplib.IMAP4, folder: str) -> int:
    """Select the folder and return its UIDVALIDITY."""
    _check(*client.select(_quote(folder)), f"open the folder {folder!r}")
    _, data = client.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    data = _check(*client.status(_quote(folder), "(UIDVALIDITY)"), f"read {folder!r}")
    match = _UIDVALIDITY.search(b" ".join(d for d in data if isinstance(d, bytes)))
    if match is None:
        raise ImapError(f"The server did not say the UIDVALIDITY of {folder!r}.")
    return int(match.group(1))


def _fetch_bytes(client: imaplib.IMAP4, uid: int, item: str) -> bytes | None:
    data = _check(*client.uid("FETCH", str(uid), f"({item})"), f"fetch message {uid}")
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return None


def _size(client: imaplib.IMAP4, uid: int) -> int:
    data = _check(*client.uid("FETCH", str(uid), "(RFC822.SIZE)"), f"size message {uid}")
    for part in data:
        raw = part[0] if isinstance(part, tuple) else part
        match = _SIZE.search(raw) if isinstance(raw, bytes) else None
        if match:
            return int(match.group(1))
    return 0


def mark_processed(client: imaplib.IMAP4, mailbox: Mailbox, uid: int) -> None:
    """After commit only: flag the message seen, or move it to the processed folder."""
    if not mailbox.imap_processed_folder:
        _check(*client.uid("STORE", str(uid), "+FLAGS", r"(\Seen)"), f"flag message {uid}")
        return
    target = _quote(mailbox.imap_processed_folder)
    typ, _ = client.uid("MOVE", str(uid), target)
    if typ != "OK":
        _check(*client.uid("COPY", str(uid), target), f"copy message {uid}")
        _check(*client.uid("STORE", str(uid), "+FLAGS", r"(\Deleted)"), f"delete {uid}")
        client.expunge()


def _ingest_uid(client: imaplib.IMAP4, mailbox: Mailbox, uid: int) -> Outcome:
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    size = _size(client, uid)
    if size > limit:
        # Keep the headers so the quarantine entry says who sent what; the full message
        # stays on the server, flagged, for a person to deal with.
        head = _fetch_bytes(client, uid, "BODY.PEEK[HEADER]") or b""
        note = f"Too large: {size} bytes, the limit is {limit} bytes (left on the server)."
        return quarantine(head, mailbox, note, source="imap").outcome
    raw = _fetch_bytes(client, uid, "BODY.PEEK[]")
    if raw is None:
        note = f"The IMAP server returned no content for UID {uid} of {mailbox.address}."
        marker = f"X-Tandem-Missing: {mailbox.pk}/{uid}\n".encode()
        return quarantine(marker, mailbox, note, source="imap").outcome
    return ingest_message(raw, mailbox=mailbox, source="imap").outcome


def fetch_mailbox(mailbox: Mailbox) -> FetchSummary:
    """Fetch new mail of one mailbox; a no-op if another worker holds its lock."""
    summary = FetchSummary(mailbox.pk)
    lock = redis.mailbox_lock(mailbox.pk, LOCK_SECONDS)
    if not lock.acquire():
        summary.locked_out = True
        return summary
    try:
        client = connect(mailbox)
        try:
            _fetch_new(client, mailbox, summary, lock)
        finally:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):
                logger.info("IMAP logout from %s failed", mailbox.address)
    finally:
        try:
            lock.release()
        except Exception:
            # The lock expired while we worked (a very slow poll); nothing to release.
            logger.warning("fetch lock of mailbox %s had expired", mailbox.pk)
    return summary


def _fetch_new(
    client: imaplib.IMAP4, mailbox: Mailbox, summary: FetchSummary, lock: object
) -> None:
    uidvalidity = select_folder(client, mailbox.imap_folder)
    last_uid = mailbox.imap_last_uid
    if mailbox.imap_uidvalidity != uidvalidity:
        last_uid = 0
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=uidvalidity, imap_last_uid=0)
    data = _check(*client.uid("SEARCH", None, f"UID {last_uid + 1}:*"), "search for new mail")
    # "n:*" always matches the highest UID, even when it is below n.
    uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)
    for uid in uids[:BATCH_SIZE]:
        lock.extend(LOCK_SECONDS, replace_ttl=True)  # type: ignore[attr-defined]
        outcome = _ingest_uid(client, mailbox, uid)
        mark_processed(client, mailbox, uid)
        Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uid).update(imap_last_uid=uid)
        summary.fetched += 1
        summary.outcomes[str(outcome)] += 1


def due_mailbox_ids() -> list[int]:
    """Active IMAP mailboxes whose poll interval has passed (claimed once per interval)."""
    due = []
    for pk, interval in (
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .values_list("pk", "poll_interval_seconds")
    ):
        if redis.client().set(f"tandem:mail:due:{pk}", 1, nx=True, ex=max(interval - 1, 5)):
            due.append(pk)
    return due


def check_connection(mailbox: Mailbox) -> list[tuple[bool, str]]:
    """Try the mailbox's IMAP and SMTP settings; each line says what worked or failed."""
    from tickets.mail.outbound import check_smtp

    return [check_imap(mailbox), check_smtp(mailbox)]


def check_imap(mailbox: Mailbox) -> tuple[bool, str]:
    if not mailbox.imap_host:
        return False, "IMAP: no server is set, so no mail is fetched for this mailbox."
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        client = connect(mailbox)
    except ssl.SSLError as exc:
        return False, f"IMAP: the secure connection to {where} failed ({exc.reason})."
    except imaplib.IMAP4.error as exc:
        return False, f"IMAP: {where} refused the user name or password ({exc})."
    except OSError as exc:
        return False, f"IMAP: could not connect to {where} ({exc.strerror or exc})."
    try:
        select_folder(client, mailbox.imap_folder)
        typ, data = client.uid("SEARCH", None, "ALL")
        count = len((data[0] or b"").split()) if typ == "OK" else 0
    except (ImapError, imaplib.IMAP4.error) as exc:
        return False, f"IMAP: signed in, but {exc}"
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.info("IMAP logout after the connection test failed")
    return True, f"IMAP: signed in to {where}; {mailbox.imap_folder} holds {count} messages."
