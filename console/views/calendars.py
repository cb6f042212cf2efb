"""Business calendars: the weekly editor, holidays, the preview of the next open hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from console.calendar_forms import (
    CalendarForm,
    HolidayFormSet,
    IntervalFormSet,
    holidays_from,
    hours_from,
    interval_initial,
    next_open_hours,
)
from tickets import calendars
from tickets.business_hours import CalendarError, parse_hours
from tickets.models import BusinessCalendar
from tickets.permissions import AuthedRequest, admin_required


@require_GET
@admin_required
def calendar_list(request: AuthedRequest) -> HttpResponse:
    rows = [
        (calendar, next_open_hours(calendar, count=1))
        for calendar in BusinessCalendar.objects.order_by("name")
    ]
    return render(request, "console/calendars.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@admin_required
def calendar_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
    data = request.POST or None
    form = CalendarForm(data, instance=calendar)
    # A new calendar's usual week is what its page shows; what is posted stands alone.
    shown = interval_initial(calendar) if calendar.pk or data is None else []
    intervals = IntervalFormSet(data, prefix="h", initial=shown)
    holidays = HolidayFormSet(
        data, prefix="d", initial=[{"day": day} for day in sorted(calendar.holidays or [])]
    )
    if request.method == "POST" and all(
        [form.is_valid(), intervals.is_valid(), holidays.is_valid()]
    ):
        edited = form.save(commit=False)
        edited.hours = hours_from(intervals)
        edited.holidays = holidays_from(holidays)
        try:
            parse_hours(edited.hours)
        except CalendarError as exc:
            form.add_error(None, str(exc))
        else:
            remeasured = calendars.save_calendar(edited)
            saved = _("Calendar “%(name)s” saved.") % {"name": edited.name}
            note = _("Figures of its tickets are being recomputed.") if remeasured else ""
            messages.success(request, f"{saved} {note}".strip())
            return redirect("console:calendar-edit", edited.pk)
    context = {
        "form": form,
        "intervals": intervals,
        "holidays": holidays,
        "calendar": calendar,
        "preview": next_open_hours(calendar) if calendar.pk else [],
    }
    return render(
        request, "console/calendar_form.html", context, status=422 if form.is_bound else 200
    )
