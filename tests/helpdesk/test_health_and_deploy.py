"""/healthz reports the database and the broker; production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from helpdesk.launcher import database_url

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_says_degraded_but_stays_in_rotation_when_the_broker_is_down(
    client: Client, settings: Any
) -> None:
    # Pages work without Redis: a load balancer must not take every web host out.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


@pytest.mark.django_db
def test_production_settings_pass_check_deploy(collected_static: Path) -> None:
    """The environment of .env.example, with a real secret, has nothing to warn about."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "SECRET_KEY": "k" * 20 + "-production-secret-of-more-than-fifty-characters-9f3a",
        "DEBUG": "0",
        "TANDEM_ENCRYPTION_KEY": "x6r0Xq3Wc2oQ0bJ9m7Yx1nJ8cW2qT4sV5uB6dE7fG8A=",
        "TANDEM_VAR_DIR": str(collected_static),
        "SECURE_SSL": "1",
        "ALLOWED_HOSTS": "helpdesk.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://helpdesk.example.com",
        "SITE_URL": "https://helpdesk.example.com",
        # The test database (the checks read the server's version): the one DATABASE_URL
        # names may not exist, as in CI, where only the test database is created.
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
