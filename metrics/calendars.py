"""Business-time figures follow their calendar: when a calendar's hours, holidays, zone or
default flag change, or a mailbox gets another calendar, the figures of the tickets it
measures are recomputed in the background (metrics.refresh_mailbox_figures), not left
as they were until someone runs `recompute_metrics`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from tickets.models import BusinessCalendar, Mailbox

# What the business-time arithmetic reads of a calendar.
MEASURED = ("timezone", "hours", "holidays", "is_default")


@receiver(pre_save, sender=BusinessCalendar)
def _calendar_before(sender: Any, instance: BusinessCalendar, **kwargs: Any) -> None:
    stored = (
        BusinessCalendar.objects.filter(pk=instance.pk).values(*MEASURED).first()
        if instance.pk
        else None
    )
    now = {name: getattr(instance, name) for name in MEASURED}
    if stored is not None:
        # Dates from the database, maybe ISO strings from code: compared as text.
        stored["holidays"] = sorted(str(day) for day in stored["holidays"] or [])
        now["holidays"] = sorted(str(day) for day in now["holidays"] or [])
    # A new calendar measures nothing yet, unless it becomes the default.
    changed = stored != now if stored is not None else bool(instance.is_default)
    was_default = bool(stored and stored["is_default"])
    instance._measured_change = (changed, was_default)  # type: ignore[attr-defined]


@receiver(post_save, sender=BusinessCalendar)
def _calendar_after(sender: Any, instance: BusinessCalendar, **kwargs: Any) -> None:
    changed, was_default = getattr(instance, "_measured_change", (False, False))
    if not changed:
        return
    measured = Q(calendar=instance.pk)
    if instance.is_default or was_default:
        measured |= Q(calendar__isnull=True)  # mailboxes without one use the default
    _refresh(list(Mailbox.objects.filter(measured).values_list("pk", flat=True)))


@receiver(pre_save, sender=Mailbox)
def _mailbox_before(sender: Any, instance: Mailbox, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if instance.pk is None or (fields is not None and "calendar" not in fields):
        instance._calendar_change = False  # type: ignore[attr-defined]
        return
    stored = Mailbox.objects.filter(pk=instance.pk).values_list("calendar_id", flat=True)
    instance._calendar_change = stored.first() != instance.calendar_id  # type: ignore[attr-defined]


@receiver(post_save, sender=Mailbox)
def _mailbox_after(sender: Any, instance: Mailbox, **kwargs: Any) -> None:
    if getattr(instance, "_calendar_change", False):
        _refresh([instance.pk])


def _refresh(mailbox_ids: list[int]) -> None:
    from metrics.tasks import refresh_mailbox_figures_task

    if mailbox_ids:
        transaction.on_commit(lambda: refresh_mailbox_figures_task.delay(mailbox_ids))
