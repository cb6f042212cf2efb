"""The IMAP poll's short lease against a real Dovecot: a dead worker holds a mailbox for
seconds, a long poll keeps renewing, and Redis down leaves the mail unseen, not quarantined.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from tests.integration.conftest import Dovecot, wait_for, worker_env
from tests.mail.conftest import load
from tests.mail.test_redis_ingest import NOWHERE, redis_down
from tickets.mail import imap, redis
from tickets.mail.imap import fetch_mailbox, poll, poll_status
from tickets.mail.models import QuarantinedEmail
from tickets.models import Mailbox, Message, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MESSAGES = ("plain.eml", "reply.eml", "latin1_qp.eml")

CRASHING_POLL = """
import os, sys, django
django.setup()
import tickets.mail.imap as imap
from tickets.models import Mailbox
imap.mark_processed = lambda *a, **k: os._exit(9)
imap.fetch_mailbox(Mailbox.objects.get(pk=int(sys.argv[1])))
"""


def _reload(mailbox: Mailbox) -> Mailbox:
    mailbox.refresh_from_db()
    return mailbox


def test_a_crashed_worker_holds_the_mailbox_for_its_short_lease_only(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path, settings: Any
) -> None:
    settings.MAIL_IMAP_LEASE_SECONDS = 3
    uid = dovecot.deliver(imap_user, load("plain.eml"))
    env = {**worker_env(media_root), "MAIL_IMAP_LEASE_SECONDS": "3"}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_POLL, str(imap_mailbox.pk)],
        env=env,
        cwd=str(Path(__file__).resolve().parents[2]),
        capture_output=True,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    # The dead worker's lease: seconds, not the ten minutes of a whole poll.
    left = redis.mailbox_lease_left(imap_mailbox.pk)
    assert left is not None and left <= 3
    assert fetch_mailbox(imap_mailbox).locked_out
    assert "A worker is polling it" in poll_status(_reload(imap_mailbox))
    # Nobody renews it: it runs out, and the next poll proceeds (no key deleted by hand).
    summary = wait_for(
        lambda: (s := fetch_mailbox(_reload(imap_mailbox))) and not s.locked_out and s,
        "the dead worker's lease to run out",
        30,
    )
    assert summary.outcomes == {"duplicate": 1}
    assert r"\Seen" in dovecot.flags(imap_user)[uid]


def test_a_long_poll_keeps_renewing_its_lease(
    dovecot: Dovecot,
    imap_user: str,
    imap_mailbox: Mailbox,
    media_root: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MAIL_IMAP_LEASE_SECONDS = 5
    for name in MESSAGES:
        dovecot.deliver(imap_user, load(name))
    monkeypatch.setattr(imap, "BATCH_BYTES", 1)  # one message a chunk: three chunks
    ingest_many, seen = imap.ingest_many, []

    def slow_ingest(*args: Any, **kwargs: Any) -> Any:
        # Each step takes under half the lease; the poll as a whole outlasts one lease.
        time.sleep(2)
        seen.append(redis.mailbox_lease_left(imap_mailbox.pk))
        # Another worker asking now still finds the mailbox held.
        assert fetch_mailbox(imap_mailbox).locked_out
        return ingest_many(*args, **kwargs)

    monkeypatch.setattr(imap, "ingest_many", slow_ingest)
    summary = fetch_mailbox(imap_mailbox)
    assert summary.fetched == 3 and not summary.lease_lost
    assert summary.outcomes == {"new ticket": 2, "added to ticket": 1}
    assert len(seen) == 3 and all(left is not None for left in seen)
    assert redis.mailbox_lease_left(imap_mailbox.pk) is None  # released at the end


def test_a_poll_that_outlives_its_lease_stops_before_flagging(
    dovecot: Dovecot,
    imap_user: str,
    imap_mailbox: Mailbox,
    media_root: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MAIL_IMAP_LEASE_SECONDS = 1
    uid = dovecot.deliver(imap_user, load("plain.eml"))
    ingest_many = imap.ingest_many

    def stuck_ingest(*args: Any, **kwargs: Any) -> Any:
        wait_for(lambda: redis.mailbox_lease_left(imap_mailbox.pk) is None, "the lease to end")
        return ingest_many(*args, **kwargs)

    monkeypatch.setattr(imap, "ingest_many", stuck_ingest)
    summary = fetch_mailbox(imap_mailbox)
    # Stored, but not flagged: another worker may hold the mailbox now.
    assert summary.lease_lost and Message.objects.count() == 1
    assert r"\Seen" not in dovecot.flags(imap_user)[uid]
    monkeypatch.setattr(imap, "ingest_many", ingest_many)
    assert fetch_mailbox(_reload(imap_mailbox)).outcomes == {"duplicate": 1}
    assert r"\Seen" in dovecot.flags(imap_user)[uid]


def test_redis_down_leaves_the_mail_unseen_and_says_so(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    uids = [dovecot.deliver(imap_user, load(name)) for name in MESSAGES]
    with redis_down():
        assert poll(imap_mailbox) is None
    assert "Redis is unavailable" in poll_status(_reload(imap_mailbox))
    assert all(r"\Seen" not in dovecot.flags(imap_user)[uid] for uid in uids)
    assert not QuarantinedEmail.objects.exists() and not Ticket.objects.exists()
    # Only the cache's Redis gone (the lease's connection up): the cache degrades
    # (helpdesk.cache), so the poll goes through and stores all of it, nothing held.
    cache = {"default": {"BACKEND": "helpdesk.cache.SharedClientRedisCache", "LOCATION": NOWHERE}}
    with override_settings(CACHES=cache):
        summary = poll(_reload(imap_mailbox))
    assert summary is not None and summary.outcomes == {"new ticket": 2, "added to ticket": 1}
    assert not QuarantinedEmail.objects.exists()
    assert _reload(imap_mailbox).imap_error == ""
    assert redis.mailbox_lease_left(imap_mailbox.pk) is None
    assert all(r"\Seen" in dovecot.flags(imap_user)[uid] for uid in uids)
