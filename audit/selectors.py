"""The audit log as admins read it: filtered, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    kind: str = ""
    start: date | None = None
    end: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(filters: AuditFilter) -> QuerySet[AuditEntry]:
    """Entries matching the filters (the actor by username, email or label; the dates
    inclusive, in the site's time zone), newest first."""
    entries = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if filters.actor:
        entries = entries.filter(
            Q(actor_label__iexact=filters.actor) | Q(actor__email__iexact=filters.actor)
        )
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.start:
        entries = entries.filter(at__gte=_day_start(filters.start))
    if filters.end:
        entries = entries.filter(at__lt=_day_start(filters.end + timedelta(days=1)))
    return entries


def audit_page(
    filters: AuditFilter, after: tuple[datetime, int] | None = None, size: int | None = None
) -> tuple[list[AuditEntry], tuple[datetime, int] | None]:
    """One page (keyset: the entries older than `after`, the last row of the page before)
    and the key of the next page, None on the last. One query."""
    size = size or PAGE_SIZE
    entries = audit_entries(filters)
    if after is not None:
        at, pk = after
        entries = entries.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    rows = list(entries[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, ((rows[-1].at, rows[-1].pk) if more else None)
