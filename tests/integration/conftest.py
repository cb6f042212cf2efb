"""Real mail servers for integration tests: Dovecot (IMAP), aiosmtpd (SMTP), a Celery worker.

Dovecot runs from dovecot.conf.in (our throwaway test config) on a spare port with its
maildirs in a fresh temp directory; every IMAP user name logs in with "secret" and gets
its own maildir, so each test uses its own user and never sees another test's mail.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
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

from tests.conftest import make_mailbox
from tickets.models import Mailbox, MailSecurity

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@dataclass
class Dovecot:
    host: str
    port: int
    directory: Path

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port)
        client.login(user, "secret")
        return client

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Put a message into a user's folder, as the MTA would; returns its UID."""
        client = self.client(user)
        try:
            client.create(folder)
            typ, data = client.append(folder, flags or None, None, raw)
            assert typ == "OK", data
            return int(data[0].split(b"APPENDUID ")[1].split(b"]")[0].split()[1])
        finally:
            client.logout()

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, str]:
        """UID -> flags of every message in the folder."""
        client = self.client(user)
        try:
            client.select(folder)
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
            found = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    found[uid] = text.split("FLAGS (")[1].split(")")[0]
            return found
        finally:
            client.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    # Dovecot's login processes run as nobody and must reach the maildirs, so the
    # directory lives in /tmp with mode 755 rather than under pytest's private tmp.
    directory = Path(tempfile.mkdtemp(prefix="tandem-dovecot-", dir="/tmp"))
    directory.chmod(0o755)
    (directory / "mail").mkdir()
    shutil.chown(directory / "mail", "nobody", "nogroup")
    port = free_port()
    config = (HERE / "dovecot.conf.in").read_text()
    config = config.replace("@DIR@", str(directory)).replace("@PORT@", str(port))
    (directory / "dovecot.conf").write_text(config)
    subprocess.run(["dovecot", "-c", str(directory / "dovecot.conf")], check=True)
    server = Dovecot("127.0.0.1", port, directory)

    def accepts() -> bool:
        try:
            server.client("probe").logout()
        except OSError:
            return False
        return True

    wait_for(accepts, "Dovecot to accept connections", 30)
    yield server
    pid_file = directory / "run" / "master.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    shutil.rmtree(directory, ignore_errors=True)


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


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, recorder)
    controller.stop()


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
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["MEDIA_ROOT"] = str(media)
    env["DEBUG"] = "1"
    env["MAIL_SEND_RETRY_BASE_SECONDS"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    return env


@pytest.fixture
def celery_worker(transactional_db: None, media_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the test database and the Redis broker."""
    from helpdesk.celery import app

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
