"""IMAP fetching against a real Dovecot: UIDs, flags after commit, faults, locks."""

from __future__ import annotations

import imaplib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import Dovecot, worker_env
from tests.mail.conftest import load
from tickets.mail import imap, redis
from tickets.mail.imap import check_imap, fetch_mailbox
from tickets.mail.intake import retry_quarantined
from tickets.mail.models import QuarantinedEmail
from tickets.models import Mailbox, MailSecurity, Message, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _reload(mailbox: Mailbox) -> Mailbox:
    mailbox.refresh_from_db()
    return mailbox


def test_fetch_stores_each_message_once_and_flags_it_after_commit(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    first = dovecot.deliver(imap_user, load("plain.eml"))
    # Read in another client before the poll: still fetched (UIDs, not the unread flag).
    second = dovecot.deliver(imap_user, load("latin1_qp.eml"), flags=r"(\Seen)")
    summary = fetch_mailbox(imap_mailbox)
    assert summary.fetched == 2 and summary.outcomes["new ticket"] == 2
    assert Ticket.objects.filter(mailbox=imap_mailbox).count() == 2
    flags = dovecot.flags(imap_user)
    assert r"\Seen" in flags[first] and r"\Seen" in flags[second]
    assert _reload(imap_mailbox).imap_last_uid == second
    assert _reload(imap_mailbox).imap_uidvalidity
    # Nothing new: nothing fetched, nothing stored.
    assert fetch_mailbox(imap_mailbox).fetched == 0
    assert Message.objects.count() == 2


def test_broken_and_huge_messages_never_block_the_ones_behind(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path, settings
) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 5000
    dovecot.deliver(imap_user, load("no_headers.eml"))
    huge = load("plain.eml").replace(b"Could someone", b"x" * 6000 + b"\nCould someone")
    dovecot.deliver(imap_user, huge)
    last = dovecot.deliver(imap_user, load("html_remote_image.eml"))
    summary = fetch_mailbox(imap_mailbox)
    assert summary.outcomes == {"quarantined": 2, "new ticket": 1}
    reasons = sorted(QuarantinedEmail.objects.values_list("reason", flat=True))
    assert reasons[0].startswith("Cannot be parsed") and reasons[1].startswith("Too large")
    assert _reload(imap_mailbox).imap_last_uid == last
    # Only its headers were kept: a retry opens no ticket from them.
    kept = QuarantinedEmail.objects.get(reason__startswith="Too large")
    assert kept.from_address == "li@customer.test"
    assert retry_quarantined(kept).outcome == "quarantined"
    assert Ticket.objects.count() == 1
    assert all(r"\Seen" in f for f in dovecot.flags(imap_user).values())


@pytest.fixture
def uid_commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The UID commands a poll sends to the real server, in order."""
    sent: list[str] = []
    real = imaplib.IMAP4.uid

    def counting(self: imaplib.IMAP4, command: str, *args: object) -> tuple[str, list]:  # type: ignore[type-arg]
        sent.append(command.upper())
        return real(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", counting)
    return sent


NAMES = ("plain.eml", "reply.eml", "latin1_qp.eml", "html_remote_image.eml")


def test_a_poll_fetches_and_flags_a_batch_in_one_command_each(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path, uid_commands
) -> None:
    uids = [dovecot.deliver(imap_user, load(name)) for name in NAMES]
    summary = fetch_mailbox(imap_mailbox)
    assert summary.outcomes == {"new ticket": 3, "added to ticket": 1}
    # The new UIDs with their sizes, the bodies of all four, their flags.
    assert uid_commands == ["FETCH", "FETCH", "STORE"]
    assert all(r"\Seen" in f for f in dovecot.flags(imap_user).values())
    assert _reload(imap_mailbox).imap_last_uid == uids[-1]


def test_messages_over_the_batch_bytes_are_fetched_one_at_a_time(
    dovecot: Dovecot,
    imap_user: str,
    imap_mailbox: Mailbox,
    media_root: Path,
    uid_commands,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap, "BATCH_BYTES", 1)
    for name in NAMES:
        dovecot.deliver(imap_user, load(name))
    summary = fetch_mailbox(imap_mailbox)
    assert summary.outcomes == {"new ticket": 3, "added to ticket": 1}
    assert uid_commands == ["FETCH", *["FETCH", "STORE"] * 4]
    assert all(r"\Seen" in f for f in dovecot.flags(imap_user).values())


def test_processed_folder_moves_fetched_mail(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    imap_mailbox.imap_processed_folder = "Processed"
    imap_mailbox.save()
    dovecot.deliver(imap_user, load("plain.eml"))
    client = dovecot.client(imap_user)
    client.create("Processed")
    client.logout()
    assert fetch_mailbox(imap_mailbox).fetched == 1
    assert dovecot.flags(imap_user) == {}
    assert len(dovecot.flags(imap_user, "Processed")) == 1


def test_a_processed_folder_that_does_not_exist_yet_is_created(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    imap_mailbox.imap_processed_folder = "Processed-by-Tandem"
    imap_mailbox.save()
    first = dovecot.deliver(imap_user, load("plain.eml"))
    summary = fetch_mailbox(imap_mailbox)
    assert summary.fetched == 1 and summary.outcomes["new ticket"] == 1
    assert dovecot.flags(imap_user) == {}
    assert len(dovecot.flags(imap_user, "Processed-by-Tandem")) == 1
    assert _reload(imap_mailbox).imap_last_uid == first
    # The next message is moved into the folder now there.
    dovecot.deliver(imap_user, load("latin1_qp.eml"))
    assert fetch_mailbox(imap_mailbox).fetched == 1
    assert len(dovecot.flags(imap_user, "Processed-by-Tandem")) == 2


def test_uidvalidity_change_refetches_without_duplicates(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    dovecot.deliver(imap_user, load("plain.eml"))
    fetch_mailbox(imap_mailbox)
    # The server renumbered the folder (e.g. restored from backup): old UIDs mean nothing.
    Mailbox.objects.filter(pk=imap_mailbox.pk).update(imap_uidvalidity=1, imap_last_uid=99)
    dovecot.deliver(imap_user, load("no_message_id.eml"))
    summary = fetch_mailbox(_reload(imap_mailbox))
    assert summary.outcomes == {"duplicate": 1, "new ticket": 1}
    assert Ticket.objects.count() == 2


def test_a_second_worker_never_fetches_a_locked_mailbox(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path
) -> None:
    dovecot.deliver(imap_user, load("plain.eml"))
    held = redis.mailbox_lock(imap_mailbox.pk, 60)
    assert held.acquire()
    try:
        assert fetch_mailbox(imap_mailbox).locked_out
        assert Ticket.objects.count() == 0
    finally:
        held.release()
    assert fetch_mailbox(imap_mailbox).fetched == 1


CRASHING_FETCH = """
import os, sys, django
django.setup()
import tickets.mail.bulk as bulk
import tickets.mail.imap as imap
from tickets.models import Mailbox
point = sys.argv[1]
if point == "after-commit":
    imap.mark_processed = lambda *a, **k: os._exit(9)
else:
    # Killed inside the batch's transaction, after its tickets were written in it.
    copy, calls = bulk.copy_rows, []
    def dying_copy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os._exit(9)
        return copy(*args, **kwargs)
    bulk.copy_rows = dying_copy
imap.fetch_mailbox(Mailbox.objects.get(pk=int(sys.argv[2])))
"""


@pytest.mark.parametrize("point", ["after-commit", "before-commit"])
def test_worker_killed_mid_fetch_loses_and_duplicates_nothing(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox, media_root: Path, point: str
) -> None:
    ids = ["plain-1@customer.test", "reply-1@customer.test", "latin1-1@kunde.test"]
    uids = [
        dovecot.deliver(imap_user, load(name))
        for name in ("plain.eml", "reply.eml", "latin1_qp.eml")
    ]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_FETCH, point, str(imap_mailbox.pk)],
        env=worker_env(media_root),
        cwd=str(Path(__file__).resolve().parents[2]),
        capture_output=True,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    # One batch, one transaction: all three committed, or none.
    stored = Message.objects.filter(message_id__in=ids).count()
    assert stored == (3 if point == "after-commit" else 0)
    assert all(r"\Seen" not in dovecot.flags(imap_user)[uid] for uid in uids)
    # The dead worker's lock would expire on its own; end it now instead of waiting.
    redis.client().delete(f"tandem:mail:fetch:{imap_mailbox.pk}")
    summary = fetch_mailbox(_reload(imap_mailbox))
    expected = (
        {"duplicate": 3} if point == "after-commit" else {"new ticket": 2, "added to ticket": 1}
    )
    assert summary.outcomes == expected
    assert Message.objects.filter(message_id__in=ids).count() == 3
    assert all(r"\Seen" in dovecot.flags(imap_user)[uid] for uid in uids)
    assert _reload(imap_mailbox).imap_last_uid == uids[-1]


def test_connection_check_reports_in_plain_words(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox
) -> None:
    ok, text = check_imap(imap_mailbox)
    assert ok and "signed in" in text
    imap_mailbox.imap_folder = "NoSuchFolder"
    ok, text = check_imap(imap_mailbox)
    assert not ok and "NoSuchFolder" in text
    imap_mailbox.imap_folder = "INBOX"
    imap_mailbox.imap_password = "wrong"
    ok, text = check_imap(imap_mailbox)
    assert not ok and "refused the user name or password" in text
    # This Dovecot offers no TLS: said as such, not as a wrong password.
    imap_mailbox.imap_password = "secret"
    imap_mailbox.imap_security = MailSecurity.STARTTLS
    ok, text = check_imap(imap_mailbox)
    assert not ok and "does not offer STARTTLS" in text
    assert "password" not in text
    imap_mailbox.imap_security = MailSecurity.SSL
    ok, text = check_imap(imap_mailbox)
    assert not ok and "secure connection" in text
    imap_mailbox.imap_port = 1
    ok, text = check_imap(imap_mailbox)
    assert not ok and "could not connect" in text


def test_a_poll_that_works_again_clears_the_recorded_failure(
    dovecot: Dovecot, imap_user: str, imap_mailbox: Mailbox
) -> None:
    imap_mailbox.imap_password = "wrong"
    assert imap.poll(imap_mailbox) is None
    failed = _reload(imap_mailbox)  # the stored password: "secret" again
    assert "refused the user name or password" in failed.imap_error
    assert failed.imap_failing_since is not None
    failed_at = failed.imap_polled_at
    dovecot.deliver(imap_user, load("plain.eml"))
    summary = imap.poll(failed)
    assert summary is not None and summary.fetched == 1
    worked = _reload(imap_mailbox)
    assert (worked.imap_error, worked.imap_failing_since) == ("", None)
    assert worked.imap_polled_at > failed_at
    assert imap.poll_status(worked) == "Worked just now."
