"""The mail tasks: one poll task per due mailbox, sends retried with a growing delay."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Personas
from tests.factories import make_mailbox
from tickets.mail import redis, tasks
from tickets.mail.outbound import retry_delay
from tickets.models import MailSecurity

pytestmark = pytest.mark.django_db


def test_each_due_mailbox_is_polled_by_its_own_task_once_per_interval(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetching = make_mailbox(address="in@tandem.test", imap_host="imap.test", imap_user="in")
    other = make_mailbox(address="in2@tandem.test", imap_host="imap2.test", imap_user="in2")
    paused = make_mailbox(
        address="off@tandem.test", imap_host="imap.test", imap_user="off", is_active=False
    )
    boxes = [personas.mailbox_a, personas.mailbox_b, fetching, other, paused]
    # The claims live in Redis, outside the test database: start from none.
    redis.client().delete(*[f"tandem:mail:due:{box.pk}" for box in boxes])
    queued: list[int] = []
    monkeypatch.setattr(tasks.poll_mailbox, "delay", queued.append)

    tasks.poll_due_mailboxes()
    # No IMAP server (mailboxes A and B) or inactive: not polled.
    assert sorted(queued) == sorted([fetching.pk, other.pk])
    # Within the poll interval, nothing is due again.
    tasks.poll_due_mailboxes()
    assert len(queued) == 2


def test_a_send_that_may_work_later_is_due_again_after_a_growing_delay(settings: Any) -> None:
    settings.MAIL_SEND_RETRY_BASE_SECONDS = 30
    settings.MAIL_SEND_RETRY_MAX_SECONDS = 900
    delays = [retry_delay(attempt).total_seconds() for attempt in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 900, 900, 900]


def test_a_failing_poll_is_recorded_and_shown_to_managers_not_only_logged(
    personas: Personas, client: Any
) -> None:
    # A real connection to a port nobody listens on: refused at once.
    down = make_mailbox(
        name="Sales in",
        address="sales@tandem.test",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security=MailSecurity.NONE,
        imap_user="sales",
    )
    tasks.poll_mailbox(down.pk)  # logged and recorded, not raised: the next poll retries
    down.refresh_from_db()
    assert "could not connect to 127.0.0.1:1" in down.imap_error
    first_failure = down.imap_failing_since
    assert first_failure is not None and down.imap_polled_at == first_failure
    tasks.poll_mailbox(down.pk)
    down.refresh_from_db()
    assert down.imap_failing_since == first_failure < down.imap_polled_at

    # Managers and admins see it on every workspace page; agents do not.
    client.force_login(personas.manager)
    page = client.get("/").content.decode()
    assert "No mail is coming in for Sales in." in page
    assert "could not connect to 127.0.0.1:1" in page
    assert "First failed just now, last tried just now." in page
    client.force_login(personas.agent_a)
    assert "No mail is coming in" not in client.get("/").content.decode()
    # The admin, in the mailbox list, with a link from the workspace to the settings.
    personas.admin.is_staff = True
    personas.admin.save(update_fields=["is_staff"])
    client.force_login(personas.admin)
    page = client.get("/").content.decode()
    assert f'href="/settings/mailboxes/{down.pk}/"' in page
    listing = client.get("/admin/tickets/mailbox/").content.decode()
    assert "could not connect to 127.0.0.1:1" in listing
    assert "No IMAP server: mail comes by webhook or command." in listing


def test_a_server_that_never_answers_is_reported_once_not_asked_twice(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from tickets.mail import imap

    # A real listening socket that accepts and never sends a greeting.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    monkeypatch.setattr(imap, "TIMEOUT_SECONDS", 0.3)
    silent = make_mailbox(
        address="silent@tandem.test",
        imap_host="127.0.0.1",
        imap_port=server.getsockname()[1],
        imap_security=MailSecurity.NONE,
        imap_user="silent",
    )
    try:
        assert imap.poll(silent) is None
    finally:
        server.close()
    silent.refresh_from_db()
    assert silent.imap_error == f"IMAP: 127.0.0.1:{silent.imap_port} did not answer within 0.3 s."
