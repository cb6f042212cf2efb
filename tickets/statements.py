"""Statements compiled once per process and run with each request's own values.

Building and compiling an ORM query costs more CPU than PostgreSQL spends on a small
one (the inbox's page: ~40% of its selector). A `Statement` keeps what compiling gave:
the SQL, its parameters, and what Django's ModelIterable works out after compiling
(columns, related populators), and turns rows into instances as it would. The values
that vary per request (a cursor's time and number, "now") are found by compiling twice
with two sets of stand-ins: the parameters that differ are where a request's own go.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from helpdesk.postgres import instances

# Two sets of stand-ins for the values a page's statement takes (a cursor's time and
# number, the SLA filters' "now" and "now + 1 hour"): compiled with each, the parameters
# that differ are the places where a request's own values go.
_NOW_STAND_INS = (
    datetime(1903, 4, 5, 6, 7, 8, 9, tzinfo=UTC),
    datetime(1904, 5, 6, 7, 8, 9, 10, tzinfo=UTC),
)
_STAND_INS: list[dict[str, Any]] = [
    {"at": datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC), "number": -7_654_321},
    {"at": datetime(1902, 3, 4, 5, 6, 7, 8, tzinfo=UTC), "number": -8_765_432},
]
for _values, _now in zip(_STAND_INS, _NOW_STAND_INS, strict=True):
    _values.update(now=_now, soon=_now + timedelta(hours=1))


class Statement:
    """A compiled statement: its SQL, its parameters with the places of a request's own
    values, and how its rows become model instances."""

    def __init__(self, qs: QuerySet[Any], slots: list[tuple[int, str]]) -> None:
        self.compiler = qs.query.get_compiler(using=qs.db)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.slots = slots
        self.db = qs.db
        self.fetch_mode = qs._fetch_mode  # type: ignore[attr-defined]  # django-stubs: private

    def rows(self, values: dict[str, Any]) -> list[Any]:
        """The instances the statement reads with `values` in their places."""
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        # A copy per run: the compiler names the connection of the thread it ran in.
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[self.db]
        return instances(compiler, self.db, self.fetch_mode, rows)


def compile_with_stand_ins(
    build: Callable[[dict[str, Any]], QuerySet[Any]],
) -> Statement | None:
    """The statement `build` makes from a dict of values ("at", "number", "now", "soon"),
    or None when it can match nothing (EmptyResultSet). A parameter that differs between
    the two compilations but is no stand-in raises: it would be guessed otherwise."""
    compiled: list[QuerySet[Any]] = []
    try:
        for stand_in in _STAND_INS:
            qs = build(stand_in)
            qs.query.sql_with_params()  # raises EmptyResultSet as running it would
            compiled.append(qs)
    except EmptyResultSet:
        return None
    first, second = (qs.query.sql_with_params() for qs in compiled)
    slots = [
        (index, _stand_in_name(one))
        for index, (one, other) in enumerate(zip(first[1], second[1], strict=True))
        if one != other
    ]
    if first[0] != second[0] or any(name is None for _, name in slots):
        raise AssertionError("a statement whose parameters could not be placed")
    return Statement(compiled[0], slots)  # type: ignore[arg-type]


def _stand_in_name(value: Any) -> str | None:
    for name, stand_in in _STAND_INS[0].items():
        if value == stand_in:
            return name
    return None
