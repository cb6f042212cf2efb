"""Saving business calendars and a mailbox's calendar: the one place that knows when the
business-time arithmetic of some tickets changed.

A calendar's hours, holidays, zone or default flag, or the calendar a mailbox uses, are
what business-time figures are measured against. The services below save the row and,
when one of those changed, call `hooks.calendars_changed` with the mailboxes whose
tickets are now measured differently (metrics re-measures them in the background).
The admin, the settings screens, history import and the demo data all save through here;
no model signal does it behind their backs. Each save is written to the audit log (the
fields that changed, before and after) in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from audit import services as audit
from audit.models import AuditKind
from tickets import hooks
from tickets.models import BusinessCalendar, Mailbox, Team, Ticket

# What the business-time arithmetic reads of a calendar.
MEASURED = ("timezone", "hours", "holidays", "is_default")


def _measured(values: dict[str, object]) -> dict[str, object]:
    # Dates from the database, maybe ISO strings from code: compared as text.
    holidays = values.get("holidays") or []
    return {**values, "holidays": sorted(str(day) for day in holidays)}  # type: ignore[attr-defined]


@transaction.atomic
def save_calendar(calendar: BusinessCalendar) -> bool:
    """Create or update a calendar; True when the figures it measures will be re-measured."""
    stored = (
        BusinessCalendar.objects.select_for_update()
        .filter(pk=calendar.pk)
        .values(*MEASURED)
        .first()
        if calendar.pk
        else None
    )
    recorded = audit.stored_snapshot(BusinessCalendar, calendar.pk)
    calendar.save()
    audit.record_saved(AuditKind.SETTINGS, calendar, recorded)
    now = {name: getattr(calendar, name) for name in MEASURED}
    # A new calendar measures nothing yet, unless it becomes the default.
    changed = _measured(stored) != _measured(now) if stored is not None else calendar.is_default
    if not changed:
        return False
    measured = Q(calendar=calendar.pk)
    if calendar.is_default or (stored is not None and stored["is_default"]):
        measured |= Q(calendar__isnull=True)  # mailboxes without one use the default
    hooks.calendars_changed(list(Mailbox.objects.filter(measured).values_list("pk", flat=True)))
    return True


@transaction.atomic
def save_mailbox(
    mailbox: Mailbox,
    update_fields: list[str] | None = None,
    *,
    teams: Iterable[Team] | None = None,
) -> None:
    """Create or update a mailbox, and its teams when given; a new calendar re-measures
    its tickets' figures. The audit row holds the fields and teams that changed."""
    checks_calendar = mailbox.pk is not None and (
        update_fields is None or "calendar" in update_fields
    )
    before = (
        Mailbox.objects.filter(pk=mailbox.pk).values_list("calendar_id", flat=True).first()
        if checks_calendar
        else None
    )
    many = ("teams",) if teams is not None else ()
    recorded = audit.stored_snapshot(Mailbox, mailbox.pk, many=many)
    mailbox.save(update_fields=update_fields)
    if teams is not None:
        mailbox.teams.set(list(teams))
    audit.record_saved(AuditKind.SETTINGS, mailbox, recorded, many=many)
    if checks_calendar and before != mailbox.calendar_id:
        hooks.calendars_changed([mailbox.pk])


def default_calendar() -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(is_default=True).first()


def calendar_for_ticket(ticket: Ticket) -> BusinessCalendar | None:
    """The calendar that applies to a ticket: its mailbox's, else the default, else None.

    None means 24x7; every function of tickets/business_hours.py accepts it.
    """
    mailbox = ticket.mailbox
    if mailbox.calendar_id is not None:
        return mailbox.calendar
    return default_calendar()
