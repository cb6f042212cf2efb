"""A Redis that hangs costs a page one socket timeout, not one per cache call: after a
failure the cache's pool refuses at once for a few seconds (helpdesk/cache.py), and pages
answer without it. Before, every call waited for its own timeout (with no timeout set,
for ever), and a refused connection raised a 500."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas


@dataclass
class HungServer:
    """Accepts connections and never answers."""

    port: int
    accepted: list[socket.socket] = field(default_factory=list)


@pytest.fixture
def hung_redis() -> Iterator[HungServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = HungServer(listener.getsockname()[1])

    def accept() -> None:
        while True:
            try:
                server.accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server
    listener.close()
    for connection in server.accepted:
        connection.close()


def test_a_hung_redis_costs_one_timeout_then_the_inbox_answers_without_it(
    personas: Personas, hung_redis: HungServer, settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{hung_redis.port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    client = Client()
    client.force_login(personas.agent_a)
    for _ in range(3):
        response = client.get(reverse("tickets:counts"))
        assert response.status_code == 200
        assert b"Unassigned" in response.content
    assert cache.get("anything", "missed") == "missed"
    # One connection was tried; every later call was refused at once by the pool.
    assert len(hung_redis.accepted) == 1
