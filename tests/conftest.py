"""Shared personas and fixtures. Real PostgreSQL and Redis, always.

The factory functions live in tests/factories.py.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.core.cache import cache
from django.utils import translation

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
def _desk_language() -> Iterator[None]:
    """Each test starts in the desk's language: a page a test client opened leaves the
    language its middleware activated (an agent's or a customer's) on the thread."""
    translation.deactivate()
    yield
    translation.deactivate()


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


# One migrated template database per checkout, copied for every test process: migrating
# costs each process about 25 s, a copy well under one. The template is never used by a
# test, so the rows data migrations put there stay (transactional tests flush their copy),
# and it is kept between runs while the migrations it was built from are unchanged.
# --create-db rebuilds it (once per run, however many processes ask).
TEMPLATE_STAMP = "tandem test template"


def _migrations_fingerprint() -> str:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256(django.get_version().encode())
    for key, migration in sorted(loader.disk_migrations.items()):
        digest.update(repr(key).encode())
        digest.update(Path(sys.modules[migration.__module__].__file__ or "").read_bytes())
    digest.update(repr(sorted(loader.unmigrated_apps)).encode())
    return digest.hexdigest()


def _build_template(connection: Any, template: str, comment: str) -> None:
    test_name = connection.settings_dict["TEST"].get("NAME")
    connection.settings_dict["TEST"]["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    finally:
        connection.settings_dict["TEST"]["NAME"] = test_name
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{template}" IS %s', [comment])
    # A copy needs the template to have no sessions.
    connection.close()


def _copy_template(connection: Any, run_id: str, rebuild: bool) -> tuple[str, str]:
    """Build the template if needed and copy it; returns (original name, copy's name)."""
    original = connection.settings_dict["NAME"]
    copy = connection.creation._get_test_db_name()
    template = f"test_{original}_template"
    fingerprint = _migrations_fingerprint()
    # The processes of one run take turns: the first builds, the others only copy.
    lock = int(hashlib.sha256(template.encode()).hexdigest()[:15], 16)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
        try:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [template],
            )
            row = cursor.fetchone()
            stamp = (row[0] or "").split() if row else []
            if stamp[:-1] != [*TEMPLATE_STAMP.split(), fingerprint] or (
                rebuild and stamp[-1:] != [run_id]
            ):
                _build_template(connection, template, f"{TEMPLATE_STAMP} {fingerprint} {run_id}")
                connection.settings_dict["NAME"] = original
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])
    return original, copy


def _use_database(connection: Any, name: str) -> None:
    from django.conf import settings

    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name


def _interleave_ids(connection: Any, workerinput: dict[str, Any]) -> None:
    """Each xdist process's rows get ids of their own (gw0 even, gw1 odd with two), so the
    Redis keys that name a row (IMAP fetch locks, poll claims) never meet another
    process's: the copies start from the same template, so their ids would otherwise
    run side by side. Ids stay as small as they were (tests walk ranges of them)."""
    count = int(workerinput.get("workercount", 1))
    if count < 2:
        return
    index = int(workerinput["workerid"].removeprefix("gw"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),"
            " coalesce(last_value, 0)"
            " FROM pg_sequences"
        )
        for sequence, last in cursor.fetchall():
            start = (last // count + 1) * count + index
            cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY {count} RESTART WITH {start}")


def _wants_serialized_rollback(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return "django_db_serialized_rollback" in getattr(item, "fixturenames", ()) or bool(
        marker and marker.kwargs.get("serialized_rollback")
    )


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's test database, copied from the migrated template (above)."""
    from django.db import connection

    workerinput = getattr(request.config, "workerinput", {})
    run_id = workerinput.get("testrunuid") or uuid.uuid4().hex
    with django_db_blocker.unblock():
        original, copy = _copy_template(connection, run_id, rebuild=django_db_createdb)
        _use_database(connection, copy)
        _interleave_ids(connection, workerinput)
        if any(_wants_serialized_rollback(item) for item in request.session.items):
            serialized = connection.creation.serialize_db_to_string()
            connection._test_serialized_contents = serialized  # type: ignore[attr-defined]
    yield
    with django_db_blocker.unblock():
        _use_database(connection, original)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
