"""Encrypt every secret in the database again under the first key of TANDEM_ENCRYPTION_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from helpdesk import encryption


class Command(BaseCommand):
    help = (
        "After putting a new key first in TANDEM_ENCRYPTION_KEY (the old one after it), "
        "encrypt every stored secret under the new key; then the old key can be dropped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = encryption.rotate()
        self.stdout.write(f"Encrypted the secrets of {rows} row(s) under the first key.")
