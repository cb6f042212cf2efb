"""Real mail servers for integration tests: Dovecot (IMAP), aiosmtpd (SMTP), a Celery worker.

Dovecot (tickets/mail/dovecot.py) gives every IMAP user name its own maildir, so each
test uses its own user and never sees another test's mail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from helpdesk.celery import app
from helpdesk.launcher import database_url
from tests.factories import make_mailbox
from tickets.mail.dovecot import Dovecot, free_port, running_dovecot
from tickets.models import Mailbox, MailSecurity


def wait_for(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll until check() is truthy. The deadline only guards against a hung test: no
    test asserts anything about how long a step took."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A worker consumes the queues of the one broker that every test process shares, so
    # it would also run tasks that another process's tests queued against their own
    # database. `make test` runs these tests on their own, after the others.
    for item in items:
        if "celery_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.celery_worker)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepted, and can misbehave."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    drop_next: int = 0
    reject_with: str = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject_with:
            return self.reject_with
        if self.drop_next:
            # Hang up in the middle of the DATA exchange, before answering: to the client
            # this is a connection dropped mid-send, and nothing was delivered.
            self.drop_next -= 1
            server.transport.close()
            return "421 closing"
        self.messages.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": envelope.original_content or envelope.content,
            }
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder
    controller: Controller

    def stop(self) -> None:
        """A mail server outage: nothing listens on the port."""
        self.controller.stop()

    def restart(self) -> None:
        """The same server back on the same port, recording where it left off."""
        self.controller = Controller(self.recorder, hostname=self.host, port=self.port)
        self.controller.start()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer("127.0.0.1", port, recorder, controller)
    yield server
    server.controller.stop()


@pytest.fixture
def imap_user() -> str:
    return f"support-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def imap_mailbox(db: None, dovecot: Dovecot, imap_user: str) -> Mailbox:
    return make_mailbox(
        address=f"{imap_user}@tandem.test",
        name="IMAP support",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=MailSecurity.NONE,
        imap_user=imap_user,
        imap_password="secret",
        is_default=True,
    )


@pytest.fixture
def media_root() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="tandem-media-"))
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=directory):
        yield directory
    shutil.rmtree(directory, ignore_errors=True)


def worker_env(media: Path) -> dict[str, str]:
    """Environment for a subprocess that must see the test database and media."""
    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = database_url(db)
    env["MEDIA_ROOT"] = str(media)
    env["DEBUG"] = "1"
    env["MAIL_SEND_RETRY_BASE_SECONDS"] = "1"
    env["HEALTH_DEBOUNCE_SECONDS"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    return env


@pytest.fixture
def celery_worker(transactional_db: None, media_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the test database and the Redis broker."""
    app.control.purge()
    log = open(media_root / "worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "worker",
            "-Q",
            "mail_in,mail_out,default,metrics",
            "--pool",
            "solo",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "-l",
            "info",
        ],
        env=worker_env(media_root),
        cwd=settings.BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: b"ready" in (media_root / "worker.log").read_bytes(), "the Celery worker", 90)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def broker_down() -> Iterator[None]:
    """The Celery broker unreachable: a port where nothing listens, as when Redis is down."""
    before = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _new_connections()
    try:
        yield
    finally:
        app.conf.broker_url = before
        _new_connections()


def _new_connections() -> None:
    """Forget the app's broker connections, so the next task connects to broker_url (kombu
    keeps the pools of each URL, so those of the real broker come back afterwards)."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_down(settings: Any, broker_down: None) -> None:
    """Redis unreachable for everything this process does with it: the cache (rate
    limits, presence, the inbox counts, setup versions) and the Celery broker point at a
    port where nothing listens. The machine's Redis server keeps running for the others."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = closed
    settings.CACHES = {
        name: {**config, "LOCATION": closed} for name, config in settings.CACHES.items()
    }
