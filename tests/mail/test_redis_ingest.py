"""Redis down during ingest never quarantines good mail: the cache degrades and the mail
goes in, and what still fails (a connection lost mid-ingest) waits at its door for a retry.

Redis is really unreachable here: the cache, the rate limits and the broker point at a
port nothing listens on, for the call only (the machine's Redis keeps running)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import Personas
from tickets.mail import inbound
from tickets.mail.ingest import Outcome, quarantine
from tickets.mail.intake import ingest_message, release_outage_quarantine
from tickets.mail.models import InboundEmail, InboundState, QuarantinedEmail, QuarantineState
from tickets.mail.tasks import sweep_inbound
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def redis_down() -> Iterator[None]:
    cache = {"default": {"BACKEND": "helpdesk.cache.SharedClientRedisCache", "LOCATION": NOWHERE}}
    with override_settings(REDIS_URL=NOWHERE, CACHES=cache, CELERY_BROKER_URL=NOWHERE):
        yield


def _mail(n: int, run: str) -> bytes:
    return (
        f"From: Customer {n} <c{n}-{run}@customer.test>\nTo: a@tandem.test\n"
        f"Subject: Question {n}\nMessage-ID: <redis-{run}-{n}@customer.test>\n\nHello {n}.\n"
    ).encode()


def test_ingest_email_with_redis_down_quarantines_nothing(
    personas: Personas, tmp_path: Path
) -> None:
    """The cache degrades without Redis (helpdesk.cache): the mail goes in, none is held,
    and running the command again once Redis is back stores nothing twice."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(20):
        (folder / f"{n:02}.eml").write_bytes(_mail(n, "cmd"))
    out = StringIO()
    with redis_down():
        call_command("ingest_email", str(folder), stdout=out)
    assert out.getvalue().splitlines()[-1] == (
        "20 read, 20 new tickets, 0 added to tickets, 0 duplicates, 0 quarantined"
    )
    assert QuarantinedEmail.objects.count() == 0 and Ticket.objects.count() == 20
    out = StringIO()
    call_command("ingest_email", str(folder), stdout=out)
    assert out.getvalue().splitlines()[-1] == (
        "20 read, 0 new tickets, 0 added to tickets, 20 duplicates, 0 quarantined"
    )
    assert Ticket.objects.count() == 20


def test_one_message_with_redis_down_goes_in(personas: Personas) -> None:
    with redis_down():
        result = ingest_message(_mail(1, "one"))
    assert result.outcome == Outcome.NEW_TICKET
    assert not QuarantinedEmail.objects.exists() and Message.objects.count() >= 1


def test_a_transient_failure_leaves_webhook_mail_waiting_for_the_sweep(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What still fails without Redis (a lost connection mid-ingest) is a passing fault:
    the entry waits for the sweep, no attempt spent, nothing quarantined."""
    entry, _ = inbound.accept(_mail(1, "hook"), personas.mailbox_a)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    with monkeypatch.context() as patched:
        patched.setattr(inbound, "ingest_many", unreachable)
        assert inbound.ingest_inbound(entry.pk) is None
    entry.refresh_from_db()
    assert entry.state == InboundState.RECEIVED and entry.attempts == 0
    assert not QuarantinedEmail.objects.exists()
    InboundEmail.objects.filter(pk=entry.pk).update(
        received_at=entry.received_at.replace(year=2000)
    )
    assert entry.pk in inbound.due_inbound_ids()
    result = inbound.ingest_inbound(entry.pk)
    assert result is not None and result.outcome == Outcome.NEW_TICKET


def test_entries_an_outage_quarantined_before_are_released_by_the_sweep(
    personas: Personas,
) -> None:
    """Mail the old code quarantined for a Redis ConnectionError goes in once Redis is back."""
    raw = _mail(7, "old")
    held = quarantine(
        raw,
        personas.mailbox_a,
        "Unexpected error while ingesting: ConnectionError: Error 111 connecting to "
        "127.0.0.1:6379. Connection refused.",
        source="command",
    )
    bad = quarantine(b"garbage", personas.mailbox_a, "Cannot be parsed: no headers", source="imap")
    sweep_inbound()
    assert release_outage_quarantine() == 0
    entry = QuarantinedEmail.objects.get(pk=held.quarantine_id)
    assert entry.state == QuarantineState.RELEASED and entry.ticket is not None
    assert QuarantinedEmail.objects.get(pk=bad.quarantine_id).state == QuarantineState.HELD
