"""The IMAP status admins see says honestly when polls stalled or a worker holds the box."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_mailbox
from tests.mail.test_redis_ingest import redis_down
from tickets.mail import redis
from tickets.mail.imap import poll_status
from tickets.models import Mailbox, MailSecurity

pytestmark = pytest.mark.django_db


def _imap_mailbox(**fields: Any) -> Mailbox:
    return make_mailbox(
        name="Sales in",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security=MailSecurity.NONE,
        poll_interval_seconds=60,
        **fields,
    )


def test_polls_that_stopped_ending_show_as_stalled_to_managers(
    personas: Personas, client: Any
) -> None:
    stalled = _imap_mailbox(imap_polled_at=timezone.now() - timedelta(minutes=12))
    status = poll_status(stalled)
    assert status.replace("\xa0", " ").startswith("Stalled: the last poll ended 12 minutes ago")
    assert "due every 60 s" in status
    client.force_login(personas.manager)
    page = client.get("/").content.decode()
    assert "No mail is coming in for Sales in. Stalled:" in page
    # A poll that worked a moment ago is no alert.
    Mailbox.objects.filter(pk=stalled.pk).update(imap_polled_at=timezone.now())
    stalled.refresh_from_db()
    assert poll_status(stalled) == "Worked just now."
    assert "No mail is coming in" not in client.get("/").content.decode()


def test_a_held_lease_and_redis_down_are_said(personas: Personas) -> None:
    mailbox = _imap_mailbox(imap_polled_at=timezone.now())
    lease = redis.mailbox_lock(mailbox.pk, 60)
    assert lease.acquire()
    try:
        status = poll_status(mailbox)
        assert status.startswith("Worked just now. A worker is polling it")
        with redis_down():
            assert "Redis is unavailable, so no poll can run." in poll_status(mailbox)
    finally:
        lease.release()
