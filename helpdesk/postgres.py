"""What the PostgreSQL in use offers beyond the core: extensions some searches use; the
hot pages' statements compiled once per process and prepared on the server (`Prepared`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import ref as weak_ref

import psycopg
from django.db import connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet

# The ORM's own row builders (as QuerySet iteration uses them), for Prepared's rows.
from django.db.models.query import _get_from_db, get_related_populators

_trigram_by_database: dict[str, bool] = {}


def trigram_available() -> bool:
    """Whether pg_trgm is installed in this database (checked once per process). The
    embedded PostgreSQL of `make run` ships without it; typo-tolerant searches skip
    their trigram step there."""
    name = str(connection.settings_dict["NAME"])
    if name not in _trigram_by_database:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trigram_by_database[name] = cursor.fetchone() is not None
    return _trigram_by_database[name]


# A Prepared statement once compiled: its queryset, row shape, SQL, parameters, and the
# marker each parameter stands for (None: a constant of the statement).
type _Compiled = tuple[QuerySet[Any], RowShape, str, list[Any], list[str | None]]


class Prepared:
    """A queryset built and compiled to SQL once per process; each run binds its values.

    Building a small queryset (filters, select_related, a subquery) and compiling it costs
    0.3-1 ms of CPU a time, more than PostgreSQL takes to answer it: a page that reads the
    same shapes on every request pays that for nothing. `build` makes the queryset from
    its parameters; it is called once, with `markers` (a value per parameter that no real
    request passes), and each marker is found among the compiled statement's parameters,
    where a run puts its own values. The rows come back as the queryset gives them
    (select_related objects and annotations included). Build with values whose SQL does
    not depend on them: an `IN` list, say, is one parameter per item; pass an array and
    `= ANY(%s)` instead. The statement runs prepared on the server
    (`server_prepared_cursor`), so PostgreSQL does not plan it again on each run either.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **markers: Any) -> None:
        self._build = build
        self._markers = markers
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        queryset = self._build(**self._markers)
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots: list[str | None] = []
        for param in params:
            names = [name for name, marker in self._markers.items() if param == marker]
            if len(names) > 1:
                raise ValueError(f"markers {names} are equal: each must be distinct")
            slots.append(names[0] if names else None)
        missing = set(self._markers) - set(slots)
        if missing:
            raise ValueError(f"markers not found in the compiled SQL: {sorted(missing)}")
        shape = RowShape(compiler, queryset.db, queryset._fetch_mode)
        return queryset, shape, sql, list(params), slots

    @property
    def db(self) -> str:
        """The database alias the statement runs on."""
        if self._compiled is None:
            self._compiled = self._compile()
        return str(self._compiled[0].db)

    def rows(self, **values: Any) -> list[Any]:
        """The queryset's rows, built with `values` for the markers."""
        if self._compiled is None:
            self._compiled = self._compile()
        queryset, shape, sql, params, slots = self._compiled
        bound = [
            param if slot is None else values[slot]
            for param, slot in zip(params, slots, strict=True)
        ]
        with server_prepared_cursor(queryset.db) as cursor:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
        return shape.instances(fetched)


class _PreparingCursor(psycopg.Cursor[Any]):
    """Binds on the server and prepares each statement it runs (once per connection:
    psycopg keeps the names), where Django's own cursors bind on the client, so that
    PostgreSQL plans every run again."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        return super().execute(query, params, prepare=True, **options)


def server_prepared_cursor(db: str) -> CursorWrapper:
    """A cursor of connection `db` whose statements PostgreSQL parses and plans once per
    connection, not once per run: a Prepared statement's fixed SQL with its values as
    parameters. Planning the ticket page's joins cost the server more than running them
    (0.9 ms against 0.1 ms for the ticket's row). Django's cursor wrapper around it, so
    query logging and execute wrappers (the query-count tests) see each statement."""
    wrapper = connections[db]
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    wrapper.validate_thread_sharing()
    with wrapper.wrap_database_errors:
        # The stubs type these as taking a wrapper; Django passes them the driver's cursor.
        raw: Any = _PreparingCursor(wrapper.connection)
        if wrapper.queries_logged:
            return wrapper.make_debug_cursor(raw)
        return wrapper.make_cursor(raw)


def instances(compiler: Any, db: str, fetch_mode: Any, fetched: list[Any]) -> list[Any]:
    """Model instances from rows a compiled statement fetched, as iterating its queryset
    would give them: select_related objects, annotations, and the peers a fetch mode
    tracks (Django's ModelIterable, for statements run by hand)."""
    return RowShape(compiler, db, fetch_mode).instances(fetched)


class RowShape:
    """How a compiled statement's rows become model instances (`instances`), worked out
    once: a statement run on every request need not find its columns, converters and
    related objects' builders again each time (0.1-0.2 ms of CPU a statement)."""

    def __init__(self, compiler: Any, db: str, fetch_mode: Any) -> None:
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("a statement reading a composite key is run by its queryset")
        self.db = db
        self.fetch_mode = fetch_mode
        self.klass_info, self.select = klass_info, select
        self.start = klass_info["select_fields"][0]
        self.end = klass_info["select_fields"][-1] + 1
        self.names = [column[0].target.attname for column in select[self.start : self.end]]
        self.from_db = _get_from_db(klass_info["model"], fetch_mode)
        self.annotations = list(compiler.annotation_col_map.items())
        self.converters = list(compiler.get_converters(fields).items())
        # The related objects' builders keep the peers they made when the fetch mode
        # tracks them: then a run needs builders of its own.
        self.populators = (
            None
            if fetch_mode.track_peers
            else get_related_populators(klass_info, select, db, fetch_mode)
        )

    def instances(self, fetched: list[Any]) -> list[Any]:
        db, start, end, names, from_db = self.db, self.start, self.end, self.names, self.from_db
        populators = self.populators
        if populators is None:
            populators = get_related_populators(self.klass_info, self.select, db, self.fetch_mode)
        connection = connections[db]
        track_peers = self.fetch_mode.track_peers
        found: list[Any] = []
        peers: list[Any] = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, (converters, expression) in self.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            obj = from_db(db, names, row[start:end])
            if track_peers:
                peers.append(weak_ref(obj))
                obj._state.peers = peers
            for populator in populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found
