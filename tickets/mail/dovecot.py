"""A throwaway Dovecot IMAP server, for the integration tests and `make bench`.

It runs from dovecot-test.conf.in beside this file (Debian dovecot-imapd 2.3, started as
root) on a spare port, with its maildirs in a fresh directory under /tmp; every user
name logs in with the password "secret" and gets its own maildir.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).with_name("dovecot-test.conf.in")
# The static password of the throwaway test config, not a secret.
PASSWORD = "secret"  # noqa: S105


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    host: str
    port: int
    directory: Path

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port)
        client.login(user, PASSWORD)
        return client

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Put a message into a user's folder, as the MTA would; returns its UID."""
        client = self.client(user)
        try:
            client.create(folder)
            typ, data = client.append(folder, flags or None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
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


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        raise RuntimeError("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    # Dovecot's login processes run as nobody and must reach the maildirs, so the
    # directory lives in /tmp with mode 755 rather than in a private temp directory.
    directory = Path(tempfile.mkdtemp(prefix="tandem-dovecot-", dir="/tmp"))
    directory.chmod(0o755)
    (directory / "mail").mkdir()
    shutil.chown(directory / "mail", "nobody", "nogroup")
    port = free_port()
    config = TEMPLATE.read_text().replace("@DIR@", str(directory)).replace("@PORT@", str(port))
    (directory / "dovecot.conf").write_text(config)
    subprocess.run(["dovecot", "-c", str(directory / "dovecot.conf")], check=True)
    server = Dovecot("127.0.0.1", port, directory)
    try:
        _wait_until_accepting(server)
        yield server
    finally:
        pid_file = directory / "run" / "master.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_until_accepting(server: Dovecot, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            server.client("probe").logout()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
