"""CSV for people to open in a spreadsheet: cells made inert, rows streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse


def inert(value: Any) -> Any:
    """Text people typed, made inert for spreadsheets: a cell starting with = + - @ would
    run as a formula when someone opens the file."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def streamed_csv(filename: str, rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """A CSV download written row by row as it is sent (every text cell inert): an export
    of any size without holding it in memory."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([inert(cell) for cell in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
