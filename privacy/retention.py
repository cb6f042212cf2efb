"""The retention policy: the content of tickets closed long ago is deleted.

Off unless PRIVACY_RETENTION_MONTHS is set. Closed tickets solved more than that many
months ago lose their content through `erase.erase_ticket_content` (the same eraser as a
customer's erasure), a batch at a time; tickets, events and figures stay. Each run that
erased something is written to the audit log.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditKind
from privacy.erase import ERASED, Erased, erase_ticket_content
from tickets.models import Status, Ticket

BATCH = 500


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when
    that month is shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def apply_retention(months: int | None = None, *, now: datetime | None = None) -> Erased:
    """Erase the content of closed tickets solved more than `months` ago (default: the
    setting; 0 does nothing)."""
    months = settings.PRIVACY_RETENTION_MONTHS if months is None else months
    erased = Erased()
    if months <= 0:
        return erased
    cutoff = months_before(now or timezone.now(), months)
    due = Ticket.objects.filter(status=Status.CLOSED, solved_at__lt=cutoff).exclude(subject=ERASED)
    while ids := list(due.order_by("number").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            batch = erase_ticket_content(ids)
            audit.record(
                AuditKind.RETENTION,
                action="ticket content deleted",
                actor_label="retention policy",
                target_label=f"{len(ids)} tickets closed before {cutoff:%Y-%m-%d}",
                data={**batch.as_dict(), "months": months, "first": ids[0], "last": ids[-1]},
            )
        for name, value in batch.as_dict().items():
            setattr(erased, name, getattr(erased, name) + value)
    return erased
