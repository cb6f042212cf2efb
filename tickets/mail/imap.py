"""Fetching a mailbox over IMAP: UIDs and UIDVALIDITY, a Redis lease, flag after commit.

A poll asks for the UIDs and sizes above the mailbox's `imap_last_uid` (not the unread
flag, not a date window) in one command, then works in chunks of up to CHUNK_MESSAGES
messages and CHUNK_BYTES bytes (a message bigger than that is a chunk of its own, so
memory stays flat):
1. fetch the chunk's bytes in one command (BODY.PEEK, so fetching never marks anything
   read);
2. ingest them in one transaction (`ingest_many`, which commits, or recognizes
   duplicates);
3. only then flag the chunk's messages seen, or move them to the processed folder, in
   one command;
4. only then advance `imap_last_uid`.
A worker killed between 2 and 3 leaves the messages unflagged and `imap_last_uid` behind
them, so the next poll fetches them again, ingest calls them duplicates, and the flags
are set: stored once, flagged once. A worker killed before the commit in 2 loses
nothing either. When the server's UIDVALIDITY changes, the UIDs mean something new: the
poll starts again from UID 1 and ingest's idempotency absorbs what was already stored.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest, Now
from django.utils import timezone
from django.utils.translation import gettext
from redis.exceptions import LockError
from redis.lock import Lock

from helpdesk.humanize import ago
from tickets.mail import redis
from tickets.mail.ingest import BATCH_BYTES, HEADERS_ONLY, IngestResult, quarantine
from tickets.mail.intake import chunked, ingest_many
from tickets.mail.outbound import check_smtp
from tickets.mail.parse import parse_message
from tickets.mail.redis import UNAVAILABLE
from tickets.models import Mailbox, MailSecurity

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
TIMEOUT_SECONDS = 60
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server refused something; the text says what, in plain words."""


class LeaseLost(Exception):
    """Our lease on the mailbox ran out between two renewals: another worker may poll it."""


@dataclass
class FetchSummary:
    mailbox_id: int
    locked_out: bool = False
    lease_lost: bool = False
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class Lease:
    """A worker's hold on one mailbox (`redis.mailbox_lock`), short and renewed."""

    lock: Lock
    seconds: int

    @classmethod
    def of(cls, mailbox: Mailbox) -> Lease:
        seconds = settings.MAIL_IMAP_LEASE_SECONDS
        return cls(redis.mailbox_lock(mailbox.pk, seconds), seconds)

    def acquire(self) -> bool:
        return bool(self.lock.acquire())

    def renew(self) -> None:
        """Another `seconds` from now; LeaseLost if it ran out (or is another's now)."""
        try:
            self.lock.extend(self.seconds, replace_ttl=True)
        except LockError as exc:
            raise LeaseLost(str(exc)) from exc

    def release(self) -> None:
        try:
            self.lock.release()
        except LockError:
            logger.warning("the fetch lease had run out before the poll ended")


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in IMAP connection for the mailbox's settings."""
    client = open_connection(mailbox)
    try:
        client.login(mailbox.imap_user, mailbox.imap_password)
    except BaseException:
        client.shutdown()
        raise
    return client


def open_connection(mailbox: Mailbox, timeout: float | None = None) -> imaplib.IMAP4:
    """A connection, secured as the settings say, not signed in yet."""
    context = ssl.create_default_context()
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    if mailbox.imap_security == MailSecurity.SSL:
        return imaplib.IMAP4_SSL(
            mailbox.imap_host, mailbox.imap_port, ssl_context=context, timeout=timeout
        )
    client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    if mailbox.imap_security == MailSecurity.STARTTLS:
        try:
            client.starttls(ssl_context=context)
        except BaseException:
            client.shutdown()
            raise
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


def uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _fetch_bodies(client: imaplib.IMAP4, uids: list[int], item: str) -> dict[int, bytes]:
    """UID -> bytes of `item` for several messages in one FETCH command."""
    where = uid_set(uids)
    data = _check(*client.uid("FETCH", where, f"({item})"), f"fetch messages {where}")
    found: dict[int, bytes] = {}
    for index, part in enumerate(data):
        if not (isinstance(part, tuple) and len(part) == 2):
            continue
        # Servers put UID before or after the literal: look in the line that follows too.
        after = data[index + 1] if index + 1 < len(data) else b""
        match = _UID.search(part[0]) or (_UID.search(after) if isinstance(after, bytes) else None)
        if match:
            found[int(match.group(1))] = part[1]
    return found


def _sizes_above(client: imaplib.IMAP4, last_uid: int) -> list[tuple[int, int]]:
    """(UID, size) of every message above `last_uid`, in UID order, in one command."""
    data = _check(*client.uid("FETCH", f"{last_uid + 1}:*", "(RFC822.SIZE)"), "list the new mail")
    sizes: dict[int, int] = {}
    for part in data:
        line = part[0] if isinstance(part, tuple) else part
        if not isinstance(line, bytes):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        # "n:*" always matches the highest UID, even when it is below n.
        if uid and size and int(uid.group(1)) > last_uid:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sorted(sizes.items())


def mark_processed(client: imaplib.IMAP4, mailbox: Mailbox, uids: list[int]) -> None:
    """After commit only: flag the messages seen, or move them to the processed folder."""
    if not uids:
        return
    where = uid_set(uids)
    if not mailbox.imap_processed_folder:
        _check(*client.uid("STORE", where, "+FLAGS", r"(\Seen)"), f"flag messages {where}")
        return
    folder = mailbox.imap_processed_folder
    target = _quote(folder)
    typ, data = client.uid("MOVE", where, target)
    if typ != "OK" and _asks_to_create(data):
        # RFC 3501 [TRYCREATE]: the folder does not exist yet. Left alone, every poll would
        # fetch the same messages again and fail here, and the mail behind them would never
        # be reached; mail clients create the folder, and so do we.
        _check(*client.create(target), f"create the folder {folder!r}")
        typ, data = client.uid("MOVE", where, target)
    if typ != "OK":
        # A server without MOVE (RFC 6851).
        typ, data = client.uid("COPY", where, target)
        if typ != "OK" and _asks_to_create(data):
            _check(*client.create(target), f"create the folder {folder!r}")
            typ, data = client.uid("COPY", where, target)
        _check(typ, data, f"copy messages {where} to {folder!r}")
        _check(*client.uid("STORE", where, "+FLAGS", r"(\Deleted)"), f"delete {where}")
        client.expunge()


def _asks_to_create(data: list) -> bool:  # type: ignore[type-arg]
    return any(isinstance(d, bytes) and b"[TRYCREATE]" in d.upper() for d in data)


def _too_large(client: imaplib.IMAP4, mailbox: Mailbox, uid: int, size: int) -> IngestResult:
    # Keep the headers so the quarantine entry says who sent what; the full message
    # stays on the server, flagged, for a person to deal with.
    head = _fetch_bodies(client, [uid], "BODY.PEEK[HEADER]").get(uid, b"")
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    note = f"Too large: {size} bytes, the limit is {limit} bytes (left on the server)."
    # The marker tells a retry that these bytes are not the message (ingest.HEADERS_ONLY);
    # no UID in it, so the same message fetched again after a UIDVALIDITY change is the
    # same entry.
    marker = f"{HEADERS_ONLY}: {size} bytes on {mailbox.address}\r\n".encode()
    try:
        parsed = parse_message(head)
    except Exception:
        # Read only for the entry's From and Subject: headers it cannot read must not stop
        # the poll at this UID, or every poll would fail here again. Parsed here, not in
        # the sandbox: headers alone are bounded by the limits of tickets/mail/limits.py.
        logger.info("headers of too-large UID %s of %s unreadable", uid, mailbox.address)
        parsed = None
    return quarantine(marker + head, mailbox, note, source="imap", parsed=parsed)


def _ingest_chunk(
    client: imaplib.IMAP4,
    mailbox: Mailbox,
    chunk: list[tuple[int, int]],
    renew: Callable[[], None] = lambda: None,
) -> list[IngestResult]:
    """Fetch and ingest a chunk of (UID, size); every UID gets a result, in order.
    `renew` is called between the fetch and the ingest (the lease's renewal)."""
    limit = settings.MAIL_MAX_MESSAGE_BYTES
    if len(chunk) == 1 and chunk[0][1] > limit:
        return [_too_large(client, mailbox, *chunk[0])]
    uids = [uid for uid, _ in chunk]
    bodies = _fetch_bodies(client, uids, "BODY.PEEK[]")
    renew()
    fetched = [uid for uid in uids if uid in bodies]
    stored = ingest_many([bodies[uid] for uid in fetched], mailbox=mailbox, source="imap")
    results = dict(zip(fetched, stored, strict=True))
    for uid in uids:
        if uid not in results:
            note = f"The IMAP server returned no content for UID {uid} of {mailbox.address}."
            marker = f"X-Tandem-Missing: {mailbox.pk}/{uid}\n".encode()
            results[uid] = quarantine(marker, mailbox, note, source="imap")
    return [results[uid] for uid in uids]


def fetch_mailbox(mailbox: Mailbox) -> FetchSummary:
    """Fetch new mail of one mailbox; a no-op if another worker holds its lease."""
    summary = FetchSummary(mailbox.pk)
    lease = Lease.of(mailbox)
    if not lease.acquire():
        summary.locked_out = True
        return summary
    try:
        client = connect(mailbox)
        try:
            _fetch_new(client, mailbox, summary, lease)
        except LeaseLost:
            summary.lease_lost = True
            logger.warning(
                "lease on mailbox %s ran out mid-poll; poll stopped", mailbox.pk, exc_info=True
            )
        finally:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):
                logger.info("IMAP logout from %s failed", mailbox.address)
    finally:
        try:
            lease.release()
        except UNAVAILABLE:
            # Redis went away mid-poll: the lease runs out on its own in seconds.
            logger.warning("could not release the lease on mailbox %s", mailbox.pk)
    return summary


def poll(mailbox: Mailbox) -> FetchSummary | None:
    """`fetch_mailbox`, with the outcome kept on the mailbox for the admins to see: when
    the poll ended and, when it failed, why in plain words (`check_imap`'s diagnosis). A
    server that is down or refuses us is logged and recorded, not raised: the next poll
    tries again, and the first that works clears the error."""
    try:
        summary = fetch_mailbox(mailbox)
    except UNAVAILABLE as exc:
        # Before OSError: redis-py's connection errors are no IMAP server's fault.
        what = "The database" if isinstance(exc, DatabaseError) else "Redis"
        reason = (
            f"{what} is unavailable ({type(exc).__name__}); the new mail waits on the IMAP "
            "server, unread, for the next poll."
        )
        logger.warning("polling mailbox %s stopped: %s", mailbox.address, reason)
        with contextlib.suppress(DatabaseError):
            _record_failure(mailbox, reason)
        return None
    except (ImapError, imaplib.IMAP4.error, OSError) as exc:
        where = f"{mailbox.imap_host}:{mailbox.imap_port}"
        if isinstance(exc, TimeoutError):
            # Asking again would wait as long again.
            ok, diagnosis = False, f"IMAP: {where} did not answer within {TIMEOUT_SECONDS} s."
        else:
            ok, diagnosis = check_imap(mailbox)
        reason = f"IMAP: fetching from {where} failed ({exc})." if ok else diagnosis
        logger.warning("polling mailbox %s failed: %s", mailbox.address, reason)
        _record_failure(mailbox, reason)
        return None
    if not summary.locked_out:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            imap_polled_at=timezone.now(), imap_error="", imap_failing_since=None
        )
    return summary


def _record_failure(mailbox: Mailbox, reason: str) -> None:
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(
        imap_polled_at=now,
        imap_error=reason,
        imap_failing_since=Coalesce("imap_failing_since", Value(now)),
    )


def poll_status(mailbox: Mailbox) -> str:
    """The last poll in words: "Worked 3 minutes ago.", or why and since when it fails,
    or that polls stopped ending (a stall), and whether a worker holds the mailbox now."""
    polled = mailbox.imap_polled_at
    if not mailbox.imap_host:
        return gettext("No IMAP server: mail comes by webhook or command.")
    try:
        left = redis.mailbox_lease_left(mailbox.pk)
    except UNAVAILABLE:
        now = gettext("Redis is unavailable, so no poll can run.")
    else:
        now = (
            gettext("A worker is polling it (its lease runs %(seconds)s s more).")
            % {"seconds": f"{left:.0f}"}
            if left
            else ""
        )
    if polled is None:
        return " ".join(filter(None, [gettext("Not polled yet."), now]))
    if mailbox.imap_error:
        since = mailbox.imap_failing_since or polled
        # The server's error as it said it; the words around it translated.
        last = gettext("%(error)s First failed %(since)s, last tried %(polled)s.") % {
            "error": mailbox.imap_error,
            "since": ago(since),
            "polled": ago(polled),
        }
        return " ".join(filter(None, [last, now]))
    interval = mailbox.poll_interval_seconds
    if timezone.now() - polled > stall_after(interval):
        return " ".join(
            [
                gettext(
                    "Stalled: the last poll ended %(polled)s, and one is due every %(interval)s s."
                )
                % {"polled": ago(polled), "interval": interval},
                now or gettext("Is the mail worker (and its scheduler) running?"),
            ]
        )
    return " ".join(filter(None, [gettext("Worked %(time)s.") % {"time": ago(polled)}, now]))


def stall_after(interval: int) -> timedelta:
    """How long after the last poll ended a mailbox counts as stalled: a few intervals,
    and never less than a poll whose worker died plus its lease running out."""
    lease = settings.MAIL_IMAP_LEASE_SECONDS
    return timedelta(seconds=max(3 * interval, interval + 2 * lease))


def needing_attention() -> QuerySet[Mailbox]:
    """Active IMAP mailboxes whose last poll failed or whose polls stopped ending
    (`stall_after`, computed in the query)."""
    interval = F("poll_interval_seconds")
    lease = settings.MAIL_IMAP_LEASE_SECONDS
    stall = ExpressionWrapper(
        Greatest(interval * 3, interval + 2 * lease) * Value(timedelta(seconds=1)),
        output_field=DurationField(),
    )
    return (
        Mailbox.objects.filter(is_active=True)
        .exclude(imap_host="")
        .filter(Q(imap_error__gt="") | Q(imap_polled_at__lt=Now() - stall))
    )


def _fetch_new(
    client: imaplib.IMAP4, mailbox: Mailbox, summary: FetchSummary, lease: Lease
) -> None:
    lease.renew()
    uidvalidity = select_folder(client, mailbox.imap_folder)
    last_uid = mailbox.imap_last_uid
    if mailbox.imap_uidvalidity != uidvalidity:
        last_uid = 0
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=uidvalidity, imap_last_uid=0)
    new = _sizes_above(client, last_uid)[:BATCH_SIZE]
    limit = settings.MAIL_MAX_MESSAGE_BYTES

    def weight(item: tuple[int, int]) -> int:
        # A message over the limit is never fetched whole: it weighs a chunk of its own.
        return item[1] if item[1] <= limit else BATCH_BYTES + 1

    for chunk in chunked(new, weight, size=BATCH_BYTES):
        lease.renew()
        results = _ingest_chunk(client, mailbox, chunk, lease.renew)
        uids = [uid for uid, _ in chunk]
        # Still ours? Else another worker polls now: it finds these stored and flags them.
        lease.renew()
        mark_processed(client, mailbox, uids)
        Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uids[-1]).update(
            imap_last_uid=uids[-1]
        )
        summary.fetched += len(uids)
        summary.outcomes.update(str(result.outcome) for result in results)


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


def check_connection(mailbox: Mailbox, timeout: float | None = None) -> list[tuple[bool, str]]:
    """Try the mailbox's IMAP and SMTP settings; each line says what worked or failed.
    A page waiting for the answer gives a short `timeout` (seconds per network step)."""
    return [check_imap(mailbox, timeout), check_smtp(mailbox, timeout)]


def check_imap(mailbox: Mailbox, timeout: float | None = None) -> tuple[bool, str]:
    if not mailbox.imap_host:
        return False, "IMAP: no server is set, so no mail is fetched for this mailbox."
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        client = open_connection(mailbox, timeout)
    except ssl.SSLError as exc:
        return False, f"IMAP: the secure connection to {where} failed ({exc.reason})."
    except imaplib.IMAP4.error as exc:
        # Connected, but STARTTLS was refused: said apart from a wrong password.
        return False, f"IMAP: {where} does not offer STARTTLS ({exc}); try SSL/TLS."
    except OSError as exc:
        return False, f"IMAP: could not connect to {where} ({exc.strerror or exc})."
    try:
        client.login(mailbox.imap_user, mailbox.imap_password)
    except imaplib.IMAP4.error as exc:
        client.shutdown()
        return False, f"IMAP: {where} refused the user name or password ({exc})."
    except OSError as exc:
        client.shutdown()
        return False, f"IMAP: {where} closed the connection while signing in ({exc})."
    try:
        select_folder(client, mailbox.imap_folder)
        typ, data = client.uid("SEARCH", "ALL")  # imaplib skips a None charset anyway
        count = len((data[0] or b"").split()) if typ == "OK" else 0
    except (ImapError, imaplib.IMAP4.error) as exc:
        return False, f"IMAP: signed in, but {exc}"
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.info("IMAP logout after the connection test failed")
    return True, f"IMAP: signed in to {where}; {mailbox.imap_folder} holds {count} messages."
