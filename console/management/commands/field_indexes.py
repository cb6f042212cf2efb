"""`manage.py field_indexes`: build the index of every active ticket choice field that
has none (tickets/services/field_indexes.py). Saving a field queues the same work; this
is for a broker that was down then, or a restored database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.services import field_indexes


class Command(BaseCommand):
    help = "Build the missing indexes of ticket choice fields (CREATE INDEX CONCURRENTLY)."

    def handle(self, *args: Any, **options: Any) -> None:
        for key in field_indexes.indexed_keys():
            built = field_indexes.ensure_field_index(key)
            state = "built" if built else "already there"
            self.stdout.write(f"{field_indexes.index_name(key)}: {state}")
