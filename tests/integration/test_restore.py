"""Backup and restore as docs/operations.md tells it: `pg_dump -Fc` of the database and
a copy of the media directory, restored with `pg_restore` into a fresh database and a
fresh directory, serve the help desk as it was: the ticket, its reply still queued, the
attachment's bytes, the API, with no migration left to apply."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.mail.conftest import load
from tickets.mail.intake import ingest_message
from tickets.models import Attachment, DeliveryStatus, Direction, Ticket

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The libpq environment of a Django connection, for pg_dump and pg_restore."""
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin"}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings_dict.get(key):
            env[name] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _client_major(tool: str) -> int:
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+)\.\d+", version.stdout)
    assert match, version.stdout
    return int(match.group(1))


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:6]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_and_the_media_restored_elsewhere_serve_the_help_desk(
    personas: Personas,
    media_root: Path,
    broker_down: None,
    fresh_database: str,
    tmp_path: Path,
    settings: Any,
) -> None:
    # pg_dump refuses a server newer than itself: the client must be the server's major
    # version or newer (.ci/run installs postgresql-client; docs/operations.md says so).
    server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
    for tool in ("pg_dump", "pg_restore"):
        assert _client_major(tool) >= server_major, f"{tool} is older than server {server_major}"

    # Data made through the app: a ticket from mail, an agent's reply with a file.
    ticket = Ticket.objects.get(pk=ingest_message(load("plain.eml")).ticket_id or 0)
    agent = Client()
    agent.force_login(personas.agent_a)
    response = agent.post(
        reverse("tickets:reply", args=[ticket.number]),
        {
            "body": "The invoice you asked for is attached.",
            "status_after": "",
            "attachments": [SimpleUploadedFile("invoice.txt", b"invoice 2024-117: 42 EUR")],
        },
    )
    assert response.status_code == 302, response.content[:500]

    # The backup: the database in pg_dump's custom format, and the media directory.
    source = connection.settings_dict
    dump = tmp_path / "tandem.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source["NAME"]],
        env=_pg_env(source),
        check=True,
    )
    media_copy = tmp_path / "media-restored"
    shutil.copytree(media_root, media_copy)

    # The restore: into a fresh database, the media copy as MEDIA_ROOT.
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", fresh_database, str(dump)],
        env=_pg_env(source),
        check=True,
    )
    settings.MEDIA_ROOT = media_copy
    connection.close()
    source_name = source["NAME"]
    connection.settings_dict["NAME"] = fresh_database
    try:
        # Nothing left to migrate: the dump holds the schema and its migration records.
        call_command("migrate", check=True, verbosity=0)

        restored = Client()
        restored.force_login(personas.agent_a)
        assert restored.get("/healthz").json()["database"] == "ok"
        page = restored.get(reverse("tickets:detail", args=[ticket.number]))
        assert page.status_code == 200
        assert ticket.subject.encode() in page.content
        assert b"The invoice you asked for is attached." in page.content

        reply = Ticket.objects.get(pk=ticket.pk).messages.get(direction=Direction.OUTBOUND)
        # Still queued: the restored help desk's send sweep will send it.
        assert reply.delivery_status == DeliveryStatus.QUEUED
        item = Attachment.objects.get(message=reply)
        download = restored.get(reverse("tickets:attachment", args=[ticket.number, item.pk]))
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == b"invoice 2024-117: 42 EUR"  # type: ignore[attr-defined]

        api = restored.get(f"/api/v1/tickets/{ticket.number}/")
        assert api.status_code == 200
        assert api.json()["subject"] == ticket.subject
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source_name
