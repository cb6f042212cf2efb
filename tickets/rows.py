"""Writing many new rows at once: primary keys reserved in one statement, rows sent with
COPY. History import, the mail batch path and the success follow-ups of a rule pass all
store what the services would store, this way, in a few statements."""

from __future__ import annotations

import json
from operator import attrgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import JSONField, Model


class NotCovered(Exception):
    """A batch the bulk path does not replay exactly: take it line by line, or message by
    message, instead."""


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` new values of the model's primary key sequence, in increasing order."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def copy_rows(rows: list[Any], *, with_pk: bool = True) -> None:
    """Save new instances of one model with COPY, with the values `save()` would write
    (generated columns fill themselves; without `with_pk`, the sequence numbers rows in
    list order). psycopg adapts text, numbers, aware datetimes and lists as they are; JSON
    values go as their text, as `JSONField` writes them (`json.dumps`, None as NULL)."""
    if not rows:
        return
    meta = rows[0]._meta
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in meta.concrete_fields if not f.generated and (with_pk or not f.primary_key)]
    values_of = attrgetter(*(f.attname for f in fields))
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    statement = f"COPY {meta.db_table} ({columns}) FROM STDIN"
    # COPY goes to psycopg's own cursor: without the wrapper its errors (a NUL in a text)
    # would not be Django's DatabaseError, which sends the batch down the per-line path.
    with db.wrap_database_errors, db.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = values_of(row)
            copy.write_row(_json_as_text(values, json_columns) if json_columns else values)


# What `json.dumps(value)` calls, without its per-call argument checks.
_json_encode = json.JSONEncoder().encode


def _json_as_text(values: tuple[Any, ...], json_columns: list[int]) -> list[Any]:
    text = list(values)
    for i in json_columns:
        if text[i] is not None:
            text[i] = _json_encode(text[i])
    return text
