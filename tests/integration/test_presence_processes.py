"""Presence across two real web processes: state lives in Redis, not in a process."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from helpdesk.launcher import database_url
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.integration.conftest import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
CSRF = "a" * 32


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@pytest.fixture
def two_web_processes() -> Iterator[list[str]]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "1",
        "SECURE_SSL": "0",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    }
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "helpdesk.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_for(lambda url=url: _up(url), f"gunicorn at {url}", seconds=120)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def _session(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _heartbeat(url: str, session: str, number: int, typing: bool = False) -> str:
    request = urllib.request.Request(
        f"{url}/tickets/{number}/presence/",
        data=f"typing={'1' if typing else ''}".encode(),
        headers={
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Referer": f"{url}/tickets/{number}/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def test_agents_on_different_processes_see_each_other(
    two_web_processes: list[str], personas: Personas
) -> None:
    first, second = two_web_processes
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    ana, boss = _session(personas.agent_a), _session(personas.manager)
    assert "Only you" in _heartbeat(first, ana, ticket.number)
    seen_by_boss = _heartbeat(second, boss, ticket.number, typing=True)
    assert "Ana" in seen_by_boss and "is viewing" in seen_by_boss
    seen_by_ana = _heartbeat(first, ana, ticket.number)
    assert personas.manager.display_name in seen_by_ana and "is typing a reply" in seen_by_ana
    # The boss stops typing on the other process; Ana's process sees that too.
    _heartbeat(second, boss, ticket.number, typing=False)
    assert "is typing" not in _heartbeat(first, ana, ticket.number)
