"""Shared personas and fixtures. Real PostgreSQL and Redis, always.

The factory functions live in tests/factories.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from tests.factories import make_customer, make_mailbox, make_user
from tickets.models import Customer, Mailbox, Role, Team, User


class Personas:
    """An agent of team A, an agent of team B, a manager, an admin, two customers."""

    team_a: Team
    team_b: Team
    mailbox_a: Mailbox
    mailbox_b: Mailbox
    agent_a: User
    agent_b: User
    manager: User
    admin: User
    customer: Customer
    other_customer: Customer


@pytest.fixture
def personas(db: None) -> Personas:
    p = Personas()
    p.team_a = Team.objects.create(name="Team A")
    p.team_b = Team.objects.create(name="Team B")
    p.mailbox_a = make_mailbox(
        teams=[p.team_a], address="a@tandem.test", name="Mailbox A", is_default=True
    )
    p.mailbox_b = make_mailbox(teams=[p.team_b], address="b@tandem.test", name="Mailbox B")
    p.agent_a = make_user(
        Role.AGENT, teams=[p.team_a], email="agent.a@staff.test", first_name="Ana"
    )
    p.agent_b = make_user(
        Role.AGENT, teams=[p.team_b], email="agent.b@staff.test", first_name="Ben"
    )
    p.manager = make_user(Role.MANAGER, email="manager@staff.test")
    p.admin = make_user(Role.ADMIN, email="admin@staff.test", is_staff=True, is_superuser=True)
    p.customer = make_customer("li@customer.test", user=True, name="Li Wei")
    p.other_customer = make_customer("sam@other.test", user=True, name="Sam Patel")
    return p


@pytest.fixture(autouse=True)
def _clean_cache(settings: Any, worker_id: str) -> None:
    """Rate limits and presence live in Redis; each test starts from nothing.

    Parallel workers share one Redis database, so each gets its own key prefix and
    deletes only its own keys: a FLUSHDB from one worker would wipe the counters a test
    on another worker is in the middle of building.
    """
    prefix = f"test-{worker_id}"
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": prefix} for name, config in settings.CACHES.items()
    }
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's real cost (about a second per user on our machines) buys tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process: the notification task's effect (mail) is what tests check."""
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
