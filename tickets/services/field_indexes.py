"""An index per choice field of tickets, for the inbox (and the API's list) filtered by it.

The inbox reads each (mailbox, status) of the viewer in `updated_at` order and stops at a
page (selectors.inbox_tickets, index ticket_mailbox_updated). A filter `field.plan=pro`
on the GIN index of all fields (ticket_fields, `@>`) makes PostgreSQL read every ticket
with that value and sort them: fine for a rare value, linear in the table for a common
one. With `ticket_field_<key>`, on (mailbox_id, status, fields -> key, updated_at, number)
for the tickets that have the key, the same ordered read stops at a page whatever the
value's share (docs/benchmarks.md, "Issue 17").

A definition is data, so its index is made at run time: after a choice field is saved
(`tickets.ensure_field_index`, a Celery task: CREATE INDEX CONCURRENTLY cannot run in a
transaction and takes seconds at a million tickets), and by `manage.py field_indexes`.
A filter without its index still answers, through ticket_fields.
"""

from __future__ import annotations

import logging
import re

from django.db import connection

from tickets.models import AppliesTo, FieldDefinition, FieldType

log = logging.getLogger(__name__)
TASK = "tickets.ensure_field_index"
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


def index_name(key: str) -> str:
    return f"ticket_field_{key.replace('-', '_')}"[:63]


def index_sql(key: str) -> str:
    """The statement for a key that is a slug (checked: it is written into the SQL)."""
    if not _SLUG.match(key):
        raise ValueError(f"not a field key: {key!r}")
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(key)} ON tickets_ticket "
        f"(mailbox_id, status, (fields -> '{key}'), updated_at DESC, number DESC) "
        f"WHERE fields ? '{key}'"
    )


def indexed_keys() -> list[str]:
    """The keys that should have an index: active ticket choice fields."""
    return list(
        FieldDefinition.objects.filter(
            applies_to=AppliesTo.TICKET, type=FieldType.CHOICE, active=True
        ).values_list("key", flat=True)
    )


def ensure_field_index(key: str) -> bool:
    """Build the index of a choice field if it has none (a half-built one, left by a
    failed concurrent build, is dropped first); outside any transaction. True if built."""
    if key not in indexed_keys():
        return False
    name = index_name(key)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
        if row is not None and row[0]:
            return False
        if row is not None:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        cursor.execute(index_sql(key))
    log.info("built index %s", name)
    return True
