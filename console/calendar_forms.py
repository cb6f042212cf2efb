"""The business-calendar editor: the calendar's own fields, a row per working interval
(a weekday, a start, an end: several a day), a row per holiday (a date picker), and the
preview of the next open hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.business_hours import WEEKDAYS, CalendarError, compile_calendar, read_zone
from tickets.models import BusinessCalendar

DAY_LABELS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
# Blank rows under the filled ones: room for more intervals and holidays on each save.
EXTRA_INTERVALS = 3
EXTRA_HOLIDAYS = 2
# How far ahead the preview looks for open hours (a calendar may be closed for weeks).
PREVIEW_DAYS = 60


class CalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("name", "timezone", "is_default")
        labels = {
            "name": gettext_lazy("Name"),
            "timezone": gettext_lazy("Time zone"),
            "is_default": gettext_lazy("Default calendar"),
        }
        help_texts = {
            "timezone": gettext_lazy("An IANA name, such as Europe/Paris or America/New_York."),
            "is_default": gettext_lazy("Used by mailboxes that name no calendar of their own."),
        }
        error_messages = {
            "name": {"unique": gettext_lazy("A calendar with this name already exists.")}
        }

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        try:
            read_zone(name)
        except CalendarError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return name

    def clean_is_default(self) -> bool:
        default = self.cleaned_data["is_default"]
        others = BusinessCalendar.objects.filter(is_default=True).exclude(pk=self.instance.pk)
        if default and others.exists():
            raise forms.ValidationError(
                _("“%(name)s” is the default calendar; untick it there first.")
                % {"name": others[0].name}
            )
        return default


class IntervalForm(forms.Form):
    """One working interval; a blank row is ignored (clear a row to remove it)."""

    day = forms.ChoiceField(
        label=gettext_lazy("Day"),
        choices=[("", "—"), *zip(WEEKDAYS, DAY_LABELS, strict=True)],
        required=False,
    )
    start = forms.TimeField(
        label=gettext_lazy("Start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end = forms.TimeField(
        label=gettext_lazy("End"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("00:00 as an end means midnight."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in ("day", "start", "end") if data.get(name) not in (None, "")]
        if not given or self.errors:
            return data
        for name in ("day", "start", "end"):
            if name not in given:
                self.add_error(name, _("Fill in the day, start and end, or clear the row."))
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end != end.min and end <= start:
            self.add_error("end", _("The interval ends before it starts."))
        return data

    def as_pair(self) -> tuple[str, list[str]] | None:
        data = self.cleaned_data
        if not data.get("day"):
            return None
        end = "24:00" if data["end"] == data["end"].min else f"{data['end']:%H:%M}"
        return data["day"], [f"{data['start']:%H:%M}", end]


class HolidayForm(forms.Form):
    """One holiday; a blank row is ignored."""

    day = forms.DateField(
        label=gettext_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


IntervalFormSet = forms.formset_factory(IntervalForm, extra=EXTRA_INTERVALS)
HolidayFormSet = forms.formset_factory(HolidayForm, extra=EXTRA_HOLIDAYS)


# A new calendar starts from the usual office week, Monday to Friday 09:00 to 17:00:
# three blank rows alone would take several saves to fill a week.
NEW_CALENDAR_HOURS = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


def interval_initial(calendar: BusinessCalendar) -> list[dict[str, str]]:
    """The rows the editor shows: the calendar's intervals, or a new one's usual week."""
    hours = calendar.hours if calendar.pk else NEW_CALENDAR_HOURS
    rows = []
    for day in WEEKDAYS:
        for start, end in (hours or {}).get(day) or []:
            rows.append({"day": day, "start": start, "end": "00:00" if end == "24:00" else end})
    return rows


def hours_from(formset: Any) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for form in formset:
        row = form.as_pair()
        if row is not None:
            hours.setdefault(row[0], []).append(row[1])
    return {day: sorted(hours[day]) for day in WEEKDAYS if day in hours}


def holidays_from(formset: Any) -> list[date]:
    return sorted({form.cleaned_data["day"] for form in formset if form.cleaned_data.get("day")})


def next_open_hours(
    calendar: BusinessCalendar, now: datetime | None = None, count: int = 5
) -> list[tuple[datetime, datetime]]:
    """The next `count` open intervals from now, in the calendar's local time."""
    compiled = compile_calendar(calendar)
    now = now or timezone.now()
    day = compiled.local_date(now)
    found: list[tuple[datetime, datetime]] = []
    for offset in range(PREVIEW_DAYS):
        for start, end in compiled.intervals_on(day + timedelta(days=offset)):
            if end > now:
                found.append(
                    (max(start, now).astimezone(compiled.zone), end.astimezone(compiled.zone))
                )
                if len(found) == count:
                    return found
    return found
