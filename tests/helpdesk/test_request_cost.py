"""What every signed-in request pays besides its view: the Redis round trips (the
session, the user, the per-process caches' versions) and the database queries.

Each cache of setup rows (helpdesk.local_cache.VersionedCache) asks Redis for its version
once a request (`versions_once_per_request`): before, the inbox asked for the directory's
version three times and the custom fields' twice. A change the request makes itself is
still seen within it. The versions are read together, with the user's row: one MGET
where a page asked for the user and three versions apart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.local_cache import VersionedCache, pinned
from tests.conftest import Personas
from tests.factories import make_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
INBOX = reverse("tickets:inbox")


def _kind(key: str) -> str:
    if "sessions" in key:
        return "session"
    if ":tandem:user:" in key:
        return "user"
    if ":tandem:version:" in key:
        return "version " + key.rpartition(":")[2]
    return key


@contextmanager
def redis_calls() -> Iterator[tuple[Counter[str], Counter[str]]]:
    """Every command sent to Redis in the block: the round trips by command, and the keys
    they named by command and key kind."""
    trips: Counter[str] = Counter()
    keys: Counter[str] = Counter()
    send = redis.Redis.execute_command

    def counted(client: redis.Redis, *args: Any, **options: Any) -> Any:
        trips[args[0]] += 1
        named = args[1:] if args[0] == "MGET" else args[1:2]
        for key in named:
            keys[f"{args[0]} {_kind(str(key))}"] += 1
        return send(client, *args, **options)

    redis.Redis.execute_command = counted  # type: ignore[method-assign]
    try:
        yield trips, keys
    finally:
        redis.Redis.execute_command = send  # type: ignore[method-assign]


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")


def _warm_client(personas: Personas, *paths: str) -> Client:
    client = Client()
    client.force_login(personas.agent_a)
    for path in paths:
        assert client.get(path).status_code == 200
    return client


def test_a_signed_in_page_asks_redis_twice(personas: Personas, ticket: Ticket) -> None:
    page = reverse("tickets:detail", args=[ticket.number])
    client = _warm_client(personas, INBOX, page)
    for path in (INBOX, page):
        with redis_calls() as (trips, keys), CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        # The session, then the user with every cache's version in one MGET (among them
        # the directory's, the custom fields' and the branding's): nothing written.
        assert trips == Counter({"GET": 1, "MGET": 1}), path
        assert keys["GET session"] == 1, path
        for kind in ("user", "version directory", "version field-definitions", "version branding"):
            assert keys[f"MGET {kind}"] == 1, (path, kind)
        # No query for the session or the user (the page's own are pinned elsewhere).
        tables = {q["sql"].split(" FROM ")[1].split()[0] for q in queries.captured_queries}
        assert not tables & {'"django_session"', '"tickets_user"'}, tables


def test_versions_are_read_together_without_the_user() -> None:
    """A pinned block (a mail batch) reads every cache's version at its first use of one."""
    rules = VersionedCache("test-together-rules", lambda: ["rule"])
    policies = VersionedCache("test-together-policies", lambda: ["policy"])
    rules.bump()
    policies.bump()
    with redis_calls() as (trips, keys), pinned():
        assert rules.get() == ["rule"]
        assert policies.get() == ["policy"]
    assert trips == Counter({"MGET": 1})
    assert keys["MGET version test-together-policies"] == 1


def test_a_change_made_within_a_request_is_read_back_within_it() -> None:
    rows = ["rule 1"]
    rules = VersionedCache("test-request-rules", lambda: list(rows))
    other_process = VersionedCache("test-request-rules", lambda: list(rows))
    assert rules.get() == ["rule 1"]
    with pinned():
        assert rules.get() == ["rule 1"]
        rows.append("rule 2")
        rules.bump()
        assert rules.get() == ["rule 1", "rule 2"]
    with pinned():
        assert other_process.get() == ["rule 1", "rule 2"]


def test_each_request_reads_the_versions_anew(personas: Personas, ticket: Ticket) -> None:
    """Pinned for one request, not longer: a change another process made between two
    requests is seen by the second."""
    client = _warm_client(personas, INBOX)
    with redis_calls() as (_trips, keys):
        for _ in range(3):
            assert client.get(INBOX).status_code == 200
    assert keys["MGET version directory"] == 3
