"""What the managers' dashboards show: figures, comparisons, series and tables.

Every number comes from metrics.aggregates (the same SQL builders as the summary API), so
a dashboard and the API never disagree. A page runs a fixed number of queries whatever
the data: one statement per figure (metrics/breakdown.py) gives this window and the
previous one, the chart series and the per-agent and per-team columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import Q
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from helpdesk.humanize import whole
from kb.reports import knowledge_gap_report
from metrics.aggregates import Window
from metrics.breakdown import breakdown
from metrics.charts import Points, chart, in_duration_unit
from metrics.definitions import DEFINITIONS, HOURS_NOTE
from metrics.field_breakdown import choice_fields, field_table
from metrics.models import SurveyKind, SurveyResponse
from metrics.templatetags.metrics_tags import figure_value
from tickets.models import STAFF_ROLES, Channel, Mailbox, Team, Ticket, User
from tickets.workflow.sla import sla_compliance

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DashboardFilters(forms.Form):
    # Always a dict: the request's QueryDict, or {} for the default window
    # (views._filters), which show_values_in_use copies and fills in.
    data: dict[str, Any]
    # The errors of the query string that was refused, shown beside the default window.
    shown_errors: ErrorDict | None = None

    start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("From")
    )
    end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label=gettext_lazy("End (inclusive)"),
    )
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, empty_label=gettext_lazy("All teams")
    )
    agent = forms.ModelChoiceField(
        User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("first_name", "email"),
        required=False,
        empty_label=gettext_lazy("All agents"),
    )
    mailbox = forms.ModelChoiceField(
        Mailbox.objects.all(), required=False, empty_label=gettext_lazy("All mailboxes")
    )
    channel = forms.ChoiceField(
        choices=lambda: [("", _("All channels")), *Channel.choices], required=False
    )
    hours = forms.ChoiceField(
        choices=[
            ("calendar", gettext_lazy("Calendar hours")),
            ("business", gettext_lazy("Business hours")),
        ],
        required=False,
    )
    bucket = forms.ChoiceField(
        choices=[("day", gettext_lazy("Per day")), ("week", gettext_lazy("Per week"))],
        required=False,
    )
    by_field = forms.ChoiceField(
        choices=lambda: [("", _("No field")), *((d.key, d.label) for d in choice_fields())],
        required=False,
        label=gettext_lazy("Break down by"),
    )
    kind = forms.ChoiceField(
        choices=[
            ("all", gettext_lazy("All tickets")),
            ("support", gettext_lazy("Support")),
            ("service", gettext_lazy("Service")),
        ],
        required=False,
        label=gettext_lazy("CSAT of"),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        elif (end - start).days > 366 * 3:
            self.add_error("start", _("Choose a window of at most three years."))
        data["start"], data["end"] = start, end
        data["hours"] = data.get("hours") or "calendar"
        data["bucket"] = data.get("bucket") or ("week" if (end - start).days > 62 else "day")
        return data

    def show_values_in_use(self) -> None:
        """Render the window and settings the page uses, those left blank included: an
        empty date box over figures for the last 30 days would leave the manager guessing."""
        data = self.data.copy()
        for name in ("start", "end"):
            data[name] = self.cleaned_data[name].isoformat()
        for name in ("hours", "bucket"):
            data[name] = self.cleaned_data[name]
        self.data = data

    def days(self) -> dict[str, date | int]:
        """The window's first and last day, and the previous window's, as the page says them."""
        first, last = self.cleaned_data["start"], self.cleaned_data["end"]
        length = (last - first).days + 1
        return {
            "first": first,
            "last": last,
            "length": length,
            "previous_first": first - timedelta(days=length),
            "previous_last": first - timedelta(days=1),
        }

    def chosen(self, which: str) -> list[str]:
        """The filters in use, as the drill-down names them above its list."""
        data = self.cleaned_data
        shown = []
        if data.get("team"):
            shown.append(_("Team: %(name)s") % {"name": data["team"].name})
        if data.get("agent"):
            shown.append(_("Agent: %(name)s") % {"name": data["agent"].display_name})
        if data.get("mailbox"):
            shown.append(_("Mailbox: %(name)s") % {"name": data["mailbox"]})
        if data.get("channel"):
            shown.append(_("Channel: %(name)s") % {"name": Channel(data["channel"]).label})
        if which == "service" and data.get("kind") == "support":
            shown.append(_("Support tickets"))
        if which == "service" and data.get("kind") == "service":
            shown.append(_("Service tickets"))
        if data["hours"] == "business":
            shown.append(_("Business hours"))
        return shown

    def window(self, kind: str | None) -> Window:
        data = self.cleaned_data
        zone = ZoneInfo(settings.TIME_ZONE)
        return Window(
            start=datetime.combine(data["start"], time(0), tzinfo=zone),
            end=datetime.combine(data["end"] + timedelta(days=1), time(0), tzinfo=zone),
            kind=kind,  # type: ignore[arg-type]
            hours=data["hours"],
            team_id=data["team"].pk if data.get("team") else None,
            agent_id=data["agent"].pk if data.get("agent") else None,
            mailbox_id=data["mailbox"].pk if data.get("mailbox") else None,
            channel=data.get("channel") or None,
            time_zone=settings.TIME_ZONE,
        )


@dataclass
class Figure:
    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    unit: str  # "seconds", "rate", "count", "score", "mean"
    definition: StrOrPromise
    drill: str | None
    # None: neither direction is better (more tickets created is not good or bad news).
    lower_is_better: bool | None = False
    detail: str = ""

    @property
    def change(self) -> str:
        """ "better", "worse" or "" (no comparison, no change or no better direction)."""
        if self.value is None or self.previous is None or self.value == self.previous:
            return ""
        if self.lower_is_better is None:
            return ""
        up = self.value > self.previous
        return "worse" if up == self.lower_is_better else "better"


def buckets(w: Window, bucket: str) -> list[date]:
    zone = ZoneInfo(w.time_zone)
    first = w.start.astimezone(zone).date()
    last = (w.end - timedelta(microseconds=1)).astimezone(zone).date()
    if bucket == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if bucket == "week" else 1)
    days = []
    while first <= last:
        days.append(first)
        first += step
    return days


# The whole range of a bounded figure, so a chart shows where its values sit in it.
CHART_SCALES = {"score": (0.0, 100.0), "nps": (-100.0, 100.0)}


def render_charts(charts: list[tuple[str, str, str, Points]]) -> list[tuple[str, Any]]:
    rendered = []
    for title, kind, unit, points in charts:
        if unit == "seconds":
            points, fmt = in_duration_unit(points)
        else:
            fmt = partial(figure_value, unit=unit)
        svg = chart(points, title=title, kind=kind, fmt=fmt, scale=CHART_SCALES.get(unit))
        rendered.append((title, svg))
    return rendered


Rows = dict[Any, dict[str, Any]]


def _series(rows: Rows, days: list[date], pick) -> list[tuple[date, Any]]:
    return [(day, pick(rows[day]) if day in rows else None) for day in days]


def support(form: DashboardFilters) -> dict[str, Any]:
    w = form.window("support")
    bucket = form.cleaned_data["bucket"]
    created = breakdown("tickets_created", w, bucket)
    frt = breakdown("first_response", w, bucket, people=True)
    res = breakdown("resolution", w, bucket, people=True)
    backlog = breakdown("backlog", w, bucket)
    ces = breakdown("ces", w, bucket, people=True)
    now, before = (
        {
            "tickets_created": c["count"],
            "first_response": f,
            **r,
            "backlog": b["count"],
            "ces": e,
        }
        for c, f, r, b, e in (
            (created.now, frt.now, res.now, backlog.now, ces.now),
            (created.previous, frt.previous, res.previous, backlog.previous, ces.previous),
        )
    )
    pair = (now, before)
    figures = [
        _figure(
            "tickets_created",
            _("Volume (tickets created)"),
            pair,
            ("tickets_created",),
            "count",
            lower_is_better=None,
        ),
        _figure(
            "first_response",
            _("First response time (median)"),
            pair,
            ("first_response", "median_seconds"),
            "seconds",
            lower_is_better=True,
            detail=_spread(now["first_response"]),
        ),
        _figure(
            "resolution",
            _("Resolution time (median)"),
            pair,
            ("resolution", "median_seconds"),
            "seconds",
            lower_is_better=True,
            detail=_spread(now["resolution"], mean=_("mean (MTTR)")),
        ),
        _figure(
            "fcr",
            _("First contact resolution"),
            pair,
            ("first_contact_resolution", "rate"),
            "rate",
            detail=_of(now["first_contact_resolution"]["count"], customer_initiated=True),
        ),
        _figure(
            "reopen",
            _("Reopen rate"),
            pair,
            ("reopen", "rate"),
            "rate",
            lower_is_better=True,
            detail=_of(now["reopen"]["count"]),
        ),
        _figure(
            "escalation",
            _("Escalation rate"),
            pair,
            ("escalation", "rate"),
            "rate",
            lower_is_better=True,
            detail=_of(now["escalation"]["count"]),
        ),
        _figure("backlog", _("Backlog at end"), pair, ("backlog",), "count", lower_is_better=True),
        _figure(
            "ces",
            _("Customer effort (CES)"),
            pair,
            ("ces", "mean"),
            "mean",
            detail=_responses(now["ces"]["responses"]),
        ),
    ]
    days = buckets(w, bucket)
    charts = [
        (_("Tickets created"), "bar", "count", _series(created.series, days, lambda r: r["count"])),
        (
            _("First response time, median"),
            "line",
            "seconds",
            _series(frt.series, days, lambda r: r["median_seconds"]),
        ),
        (
            _("Resolution time, median"),
            "line",
            "seconds",
            _series(res.series, days, lambda r: r["resolution"]["median_seconds"]),
        ),
        (
            _("Backlog at the end of each week")
            if bucket == "week"
            else _("Backlog at the end of each day"),
            "bar",
            "count",
            _series(backlog.series, days, lambda r: r["count"]),
        ),
    ]
    return {
        "window": w,
        "previous": w.previous(),
        "figures": figures,
        "charts": charts,
        "agents": _table("agent", frt.agents, res.agents, ces.agents),
        "teams": _table("team", frt.teams, res.teams, ces.teams),
        "field": _field_breakdown(form.cleaned_data.get("by_field") or "", w),
        "field_choices": bool(choice_fields()),
        "hours_note": HOURS_NOTE[w.hours],
        # What customers searched for and found nothing: the knowledge base's gaps.
        "kb_gaps": knowledge_gap_report(w.start, w.end, limit=5, with_articles=False),
        "sla": _sla_compliance(w),
    }


def _field_breakdown(key: str, w: Window) -> dict[str, Any] | None:
    definition = {d.key: d for d in choice_fields()}.get(key)
    if definition is None:
        return None
    return {"label": definition.label, "rows": field_table(definition, w)}


def _sla_compliance(w: Window) -> dict[str, Any]:
    """Share of SLA targets met among those decided in the window (tickets.workflow.sla)."""
    tickets = Ticket.objects.filter(kind=w.kind_for("first_response"))
    if w.team_id:
        tickets = tickets.filter(team_id=w.team_id)
    if w.agent_id:
        tickets = tickets.filter(assignee_id=w.agent_id)
    if w.mailbox_id:
        tickets = tickets.filter(mailbox_id=w.mailbox_id)
    if w.channel:
        tickets = tickets.filter(channel=w.channel)
    return sla_compliance(w.start, w.end, tickets)


def _responses(n: int) -> str:
    return ngettext("%(count)s response", "%(count)s responses", n) % {"count": whole(n)}


def _of(n: int, *, customer_initiated: bool = False) -> str:
    """A rate's denominator: "of 12 solved"."""
    if customer_initiated:
        text = ngettext(
            "of %(count)s customer-initiated solved", "of %(count)s customer-initiated solved", n
        )
    else:
        text = ngettext("of %(count)s solved", "of %(count)s solved", n)
    return text % {"count": whole(n)}


def _spread(durations: dict[str, Any], *, mean: str | None = None) -> str:
    """A duration figure's count, mean and p90 beside its median."""
    return _("n = %(count)s · %(mean)s %(mean_value)s · p90 %(p90)s") % {
        "count": whole(durations["count"]),
        "mean": mean or _("mean"),
        "mean_value": figure_value(durations["mean_seconds"], "seconds"),
        "p90": figure_value(durations["p90_seconds"], "seconds"),
    }


def _figure(
    key: str,
    label: str,
    pair: tuple[dict[str, Any], dict[str, Any]],
    path: tuple[str, ...],
    unit: str,
    *,
    drill: str | None = "",
    **extra: Any,
) -> Figure:
    """One figure of this window beside the previous window's, by its path in summary()."""
    values: list[Any] = []
    data: Any
    for data in pair:
        for step in path:
            data = data[step]
        values.append(data)
    return Figure(
        key, label, values[0], values[1], unit, DEFINITIONS[key],
        key if drill == "" else drill, **extra,
    )  # fmt: skip


SUPPORT_COLUMNS = [
    ("frt_count", gettext_lazy("First replies")),
    ("frt_median", gettext_lazy("FRT median")),
    ("frt_p90", gettext_lazy("FRT p90")),
    ("solved", gettext_lazy("Solved")),
    ("mttr", gettext_lazy("MTTR")),
    ("resolution_median", gettext_lazy("Resolution median")),
    ("resolution_p90", gettext_lazy("Resolution p90")),
    ("fcr", gettext_lazy("FCR")),
    ("reopen", gettext_lazy("Reopen rate")),
    ("escalation", gettext_lazy("Escalation rate")),
    ("ces", gettext_lazy("CES")),
]


# The last row of a per-agent or per-team table: what the figures count for no one, so the
# rows add up to the totals above them.
NOBODY = {"agent": gettext_lazy("No agent (unassigned)"), "team": gettext_lazy("No team")}


def _table(group: str, frt: Rows, res: Rows, ces: Rows) -> list[dict[str, Any]]:
    """Per agent or per team: FRT by first replier, resolution by assignee at final solve."""
    keys = {k for k in (*frt, *res, *ces) if k is not None}
    names = _names(group, keys)
    ordered: list[int | None] = sorted(keys, key=lambda k: names.get(k, "").lower())
    if any(None in rows for rows in (frt, res, ces)):
        ordered.append(None)
    names[None] = str(NOBODY[group])
    rows = []
    for key in ordered:
        f, r, c = frt.get(key, {}), res.get(key, {}), ces.get(key, {})
        resolution = r.get("resolution", {})
        rows.append(
            {
                "key": key,
                "name": names.get(key, _("(removed)")),
                "frt_count": f.get("count", 0),
                "frt_median": f.get("median_seconds"),
                "frt_p90": f.get("p90_seconds"),
                "solved": resolution.get("count", 0),
                "mttr": resolution.get("mean_seconds"),
                "resolution_median": resolution.get("median_seconds"),
                "resolution_p90": resolution.get("p90_seconds"),
                "fcr": r.get("first_contact_resolution", {}).get("rate"),
                "reopen": r.get("reopen", {}).get("rate"),
                "escalation": r.get("escalation", {}).get("rate"),
                "ces": c.get("mean"),
            }
        )
    return rows


def _by_name(rows: Rows, names: dict[int | None, str], group: str) -> list[dict[str, Any]]:
    """Table rows sorted by name, as the support tables are (GROUPING SETS has no order),
    and last the row of answers counted for no agent or team."""
    named = [
        {"key": k, "name": names.get(k, _("(removed)")), **v}
        for k, v in rows.items()
        if k is not None
    ]
    nobody = [{"key": None, "name": str(NOBODY[group]), **rows[None]}] if None in rows else []
    return sorted(named, key=lambda row: row["name"].lower()) + nobody


def _names(group: str, keys: set[int]) -> dict[int | None, str]:
    if not keys:
        return {}
    if group == "agent":
        return {u.pk: u.display_name for u in User.objects.filter(pk__in=keys)}
    return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))


def survey_comments(w: Window, *, limit: int) -> list[SurveyResponse]:
    """The latest answers with a comment in the window, under the figures' filters: a
    ticket's answer (CSAT, CES) by the ticket's kind, team and mailbox and the assignee
    when it was answered, as csat_sql counts it; NPS answers take no ticket filter."""
    about_ticket = Q(kind__in=[SurveyKind.CSAT, SurveyKind.CES])
    if w.kind not in (None, "all"):
        about_ticket &= Q(ticket__kind=w.kind)
    if w.team_id is not None:
        about_ticket &= Q(ticket__team_id=w.team_id)
    if w.mailbox_id is not None:
        about_ticket &= Q(ticket__mailbox_id=w.mailbox_id)
    if w.channel is not None:
        about_ticket &= Q(ticket__channel=w.channel)
    if w.agent_id is not None:
        about_ticket &= Q(assignee_id=w.agent_id)
    return list(
        SurveyResponse.objects.filter(submitted_at__gte=w.start, submitted_at__lt=w.end)
        .filter(about_ticket | Q(kind=SurveyKind.NPS))
        .exclude(comment="")
        .select_related("customer")
        .order_by("-submitted_at")[:limit]
    )


def service(form: DashboardFilters) -> dict[str, Any]:
    w = form.window(form.cleaned_data.get("kind") or "all")
    bucket = form.cleaned_data["bucket"]
    csat = breakdown("csat", w, bucket, people=True)
    nps_figures = breakdown("nps", w, bucket)
    now = {"csat": csat.now, "nps": nps_figures.now}
    pair = (now, {"csat": csat.previous, "nps": nps_figures.previous})
    nps = now["nps"]
    figures = [
        _figure(
            "csat",
            _("CSAT"),
            pair,
            ("csat", "score"),
            "score",
            detail=_responses(now["csat"]["responses"]),
        ),
        _figure(
            "nps",
            _("NPS"),
            pair,
            ("nps", "score"),
            "nps",
            drill=None,
            detail=" · ".join(
                text % {"count": whole(n)}
                for text, n in (
                    (
                        ngettext("%(count)s promoter", "%(count)s promoters", nps["promoters"]),
                        nps["promoters"],
                    ),
                    (
                        ngettext("%(count)s passive", "%(count)s passives", nps["passives"]),
                        nps["passives"],
                    ),
                    (
                        ngettext("%(count)s detractor", "%(count)s detractors", nps["detractors"]),
                        nps["detractors"],
                    ),
                )
            ),
        ),
    ]
    days = buckets(w, bucket)
    charts = [
        (_("CSAT score"), "line", "score", _series(csat.series, days, lambda r: r["score"])),
        (_("CSAT responses"), "bar", "count", _series(csat.series, days, lambda r: r["responses"])),
        (_("NPS"), "line", "nps", _series(nps_figures.series, days, lambda r: r["score"])),
    ]
    comments = survey_comments(w, limit=20)
    csat_agents, csat_teams = csat.agents, csat.teams
    agent_names = _names("agent", {k for k in csat_agents if k is not None})
    team_names = _names("team", {k for k in csat_teams if k is not None})
    return {
        "window": w,
        "previous": w.previous(),
        "figures": figures,
        "charts": charts,
        "comments": comments,
        "agents": _by_name(csat_agents, agent_names, "agent"),
        "teams": _by_name(csat_teams, team_names, "team"),
        "hours_note": "",
    }


# The agent a figure counts a ticket for (the agent filter's column), where its row has
# one; tickets created and the backlog count the assignee at the window's end, which the
# list shows as the assignee now.
