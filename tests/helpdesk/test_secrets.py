"""Secrets at rest (issue #14, finding 7): mailbox passwords and webhook secrets are
encrypted in their columns under TANDEM_ENCRYPTION_KEY, never shown back by the admin,
rotated by `manage.py rotate_encryption_key`; with DEBUG off and no key, `check` says
what to set."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from tests.conftest import Personas
from tests.helpdesk.conftest import check_tandem
from tests.mail.conftest import load
from tests.mail.test_webhook import post
from tickets.models import Mailbox

SECRETS = ("imap_password", "smtp_password", "webhook_secret")
BEFORE_ENCRYPTION = ("tickets", "0018_message_sender_checks")


def _columns(mailbox_id: int) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT imap_password, smtp_password, webhook_secret FROM tickets_mailbox "
            "WHERE id = %s",
            [mailbox_id],
        )
        return cursor.fetchone()


def _with_secrets(box: Mailbox) -> Mailbox:
    box.imap_password, box.smtp_password = "imap-pw-4711", "smtp-pw-0815"
    box.webhook_secret = "hook-secret-2342"
    box.save()
    return box


@pytest.mark.django_db
def test_the_columns_hold_no_secret_and_the_model_reads_them(personas: Personas) -> None:
    box = _with_secrets(personas.mailbox_a)
    stored = _columns(box.pk)
    for plain, column in zip(
        ("imap-pw-4711", "smtp-pw-0815", "hook-secret-2342"), stored, strict=True
    ):
        assert plain not in column
        assert Fernet(settings.ENCRYPTION_KEYS[0]).decrypt(column.encode()).decode() == plain
    box = Mailbox.objects.get(pk=box.pk)
    assert (box.imap_password, box.smtp_password, box.webhook_secret) == (
        "imap-pw-4711",
        "smtp-pw-0815",
        "hook-secret-2342",
    )
    # "No password" stays the empty string, in the column and on the model.
    Mailbox.objects.filter(pk=box.pk).update(smtp_password="")
    assert _columns(box.pk)[1] == ""
    assert Mailbox.objects.filter(pk=box.pk, smtp_password="").exists()


@pytest.mark.django_db
def test_a_rotated_key_reads_old_secrets_and_the_command_moves_them_to_the_new_key(
    personas: Personas, settings: Any
) -> None:
    old, new = settings.ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    box = _with_secrets(personas.mailbox_a)
    settings.ENCRYPTION_KEYS = [new, old]  # step 1: the new key first, the old one after
    assert Mailbox.objects.get(pk=box.pk).smtp_password == "smtp-pw-0815"
    call_command("rotate_encryption_key", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.ENCRYPTION_KEYS = [new]  # step 2: the old key dropped
    box = Mailbox.objects.get(pk=box.pk)
    assert (box.imap_password, box.webhook_secret) == ("imap-pw-4711", "hook-secret-2342")
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(ImproperlyConfigured, match="TANDEM_ENCRYPTION_KEY"):
        Mailbox.objects.get(pk=box.pk)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_plain_secrets_and_reverses() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        old = executor.migrate([BEFORE_ENCRYPTION]).apps
        box = old.get_model("tickets", "Mailbox").objects.create(
            address="plain@tandem.test",
            name="Plain",
            imap_password="imap-pw-4711",
            smtp_password="",
            webhook_secret="hook-secret-2342",
        )
        MigrationExecutor(connection).migrate(latest)
        imap, smtp, hook = _columns(box.pk)
        assert "imap-pw-4711" not in imap and "hook-secret-2342" not in hook and smtp == ""
        again = Mailbox.objects.get(pk=box.pk)
        assert (again.imap_password, again.webhook_secret) == ("imap-pw-4711", "hook-secret-2342")
        MigrationExecutor(connection).migrate([BEFORE_ENCRYPTION])
        assert _columns(box.pk) == ("imap-pw-4711", "", "hook-secret-2342")
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db
def test_the_admin_never_shows_the_webhook_secret_and_shows_a_new_one_once(
    personas: Personas, client: Client
) -> None:
    box = _with_secrets(personas.mailbox_a)
    client.force_login(personas.admin)
    page = client.get(f"/admin/tickets/mailbox/{box.pk}/change/").content.decode()
    assert "hook-secret-2342" not in page and "never shown again" in page
    response = client.post(
        "/admin/tickets/mailbox/",
        {"action": "new_webhook_secret", "_selected_action": [box.pk]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    box.refresh_from_db()
    assert box.webhook_secret != "hook-secret-2342"
    assert box.webhook_secret in response.content.decode()
    assert f"/mail/inbound/{box.pk}/" in response.content.decode()
    page = client.get(f"/admin/tickets/mailbox/{box.pk}/change/").content.decode()
    assert box.webhook_secret not in page
    # The old secret stops working; the new one is the one the webhook checks.
    assert post(client, box.pk, load("plain.eml"), "hook-secret-2342").status_code == 401
    assert post(client, box.pk, load("plain.eml"), box.webhook_secret).status_code == 202


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    return check_tandem(SECRET_KEY="k" * 60, **env)


def test_without_a_key_and_debug_off_check_says_what_to_set() -> None:
    missing = _check(DEBUG="0")
    assert missing.returncode == 1
    assert "tandem.E002" in missing.stderr and "Set TANDEM_ENCRYPTION_KEY" in missing.stderr
    bad = _check(DEBUG="0", TANDEM_ENCRYPTION_KEY="not-a-key")
    assert "tandem.E002" in bad.stderr and "not a Fernet key" in bad.stderr
    key = Fernet.generate_key().decode()
    assert "tandem.E002" not in _check(DEBUG="0", TANDEM_ENCRYPTION_KEY=key).stderr
    # DEBUG runs (make run, make test, a fresh clone) need no key at all.
    assert _check(DEBUG="1").returncode == 0
