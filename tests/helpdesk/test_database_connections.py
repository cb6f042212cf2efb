"""Database connections of the web processes (helpdesk/settings.py, helpdesk/asgi.py).

Under ASGI each request runs its sync code in a thread of its own, so a connection kept
per thread (CONN_MAX_AGE) was a new one per request left open: 25 agents on one uvicorn
worker held ~75 connections and PostgreSQL refused the next with a 500. The ASGI
application now turns on a psycopg pool per process; WSGI servers and the Celery workers
keep one persistent connection each. Either way a connection PostgreSQL dropped (a
restart, a failover) is replaced before a request uses it, not answered with a 500.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper

ROOT = Path(__file__).resolve().parents[2]


def _settings_with(**env: str) -> dict[str, Any]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        return runpy.run_path(str(ROOT / "helpdesk" / "settings.py"))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _backend_pid(wrapper: Any) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _drop(pid: int) -> None:
    """What a PostgreSQL restart does to the connection `pid` (from a connection of its own)."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_asgi_application_takes_connections_from_a_pool() -> None:
    code = (
        "import helpdesk.asgi; from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(db['CONN_MAX_AGE'], sorted(db['OPTIONS']['pool']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_POOL"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown == ["0", "['max_size',", "'min_size',", "'timeout']"]


def test_wsgi_and_workers_keep_one_checked_connection() -> None:
    db = _settings_with(DATABASE_POOL="0")["DATABASES"]["default"]
    assert db["CONN_MAX_AGE"] == 60 and db["CONN_HEALTH_CHECKS"]
    assert "pool" not in db.get("OPTIONS", {})


@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_postgresql_dropped_is_replaced() -> None:
    pooled = _settings_with(DATABASE_POOL="1", DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="1")
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": pooled["DATABASES"]["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": pooled["DATABASES"]["default"]["CONN_HEALTH_CHECKS"],
        "OPTIONS": {
            **connection.settings_dict["OPTIONS"],
            "pool": pooled["DATABASES"]["default"]["OPTIONS"]["pool"],
        },
    }
    # The alias of the settings' database (django.contrib.postgres looks its type ids up
    # under it); the pool is this wrapper's own, closed at the end.
    wrapper = DatabaseWrapper(settings_dict, alias="default")
    try:
        first = _backend_pid(wrapper)
        wrapper.close()  # the end of a request: back to the pool
        assert _backend_pid(wrapper) == first  # the same connection, reused
        wrapper.close()
        _drop(first)
        second = _backend_pid(wrapper)  # no error: the pool checked and reconnected
        assert second != first
    finally:
        wrapper.close()
        wrapper.close_pool()


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_postgresql_dropped_is_replaced_at_the_next_request() -> None:
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    # A connection of its own: one an earlier test opened may be past CONN_MAX_AGE already,
    # and a request rightly closes that one.
    connection.close()
    first = _backend_pid(connection)
    close_old_connections()  # what every request starts with (request_started)
    assert _backend_pid(connection) == first  # kept across requests
    _drop(first)
    close_old_connections()
    assert _backend_pid(connection) != first
