"""The inbox's keyset cursors: a page's last row as text, and the rows after it."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import Q

from tickets.models import PRIORITY_RANK, Ticket


def _ts(value: datetime) -> str:
    return str(int(value.timestamp() * 1_000_000))


def _from_ts(text: str) -> datetime:
    return datetime.fromtimestamp(int(text) / 1_000_000, tz=UTC)


def encode_cursor(ticket: Ticket, sort: str) -> str:
    if sort == "created":
        return f"{_ts(ticket.created_at)}.{ticket.number}"
    if sort == "priority":
        return f"{PRIORITY_RANK[ticket.priority]}.{_ts(ticket.updated_at)}.{ticket.number}"
    if sort == "due":
        return f"{_ts(ticket.next_due)}.{ticket.number}"  # type: ignore[attr-defined]
    return f"{_ts(ticket.updated_at)}.{ticket.number}"


def _after_cursor(cursor: str, sort: str) -> Q | None:
    """Rows strictly after the cursor in the sort order; None for a malformed cursor."""
    position = _cursor_position(cursor)
    return None if position is None else _after(*position, sort)


def _cursor_position(cursor: str) -> tuple[datetime, int] | None:
    """A cursor's time and ticket number; None if it is malformed."""
    try:
        stamp, number = (int(p) for p in cursor.split("."))
        return _from_ts(str(stamp)), number
    except (ValueError, OverflowError, OSError):
        return None


def _after(at: datetime, number: int, sort: str) -> Q:
    """Written as `col <= x AND (col < x OR number < n)` so PostgreSQL gets an index range
    bound on the leading column, which is what keeps page 1,000 as fast as page 1."""
    if sort == "due":
        # Ascending: soonest first.
        return Q(next_due__gte=at) & (Q(next_due__gt=at) | Q(next_due=at, number__gt=number))
    column = "created_at" if sort == "created" else "updated_at"
    return Q(**{f"{column}__lte": at}) & (
        Q(**{f"{column}__lt": at}) | Q(**{column: at, "number__lt": number})
    )
