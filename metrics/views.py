"""Survey pages (customers, no sign-in) and the managers' dashboards."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from metrics import aggregates, dashboards, surveys
from metrics.forms import SurveyForm
from metrics.models import TicketFigures


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the survey with the clicked score chosen; only the POST records it."""
    try:
        link = surveys.read_token(token)
    except surveys.SurveyLinkError as exc:
        # 404 like every other URL a customer may not use: a guessed or forged link
        # tells nothing about which surveys exist.
        return render(request, "metrics/survey_invalid.html", {"error": str(exc)}, status=404)
    answers = surveys.existing_answers(link)
    if request.method == "POST":
        form = SurveyForm(link, request.POST)
        if form.is_valid():
            saved = surveys.record_answers(link, form.scores(), form.cleaned_data["comment"])
            context = {
                "link": link,
                "answers": {r.kind: r for r in saved},
                "comment": form.cleaned_data["comment"],
                "token": token,
            }
            return render(request, "metrics/survey_done.html", context)
        status = 400
    else:
        initial = {kind: answer.score for kind, answer in answers.items()}
        main = "nps" if link.kind == "nps" else "csat"
        if main in answers:
            initial["comment"] = answers[main].comment
        clicked = request.GET.get("score", "")
        if clicked.isdecimal():
            initial[main] = int(clicked)
        form = SurveyForm(link, initial=initial)
        status = 200
    context = {"form": form, "link": link, "answered": bool(answers)}
    return render(request, "metrics/survey.html", context, status=status)


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Managers and admins only: others signed in get 403, anonymous people the sign-in."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.sees_everything:  # type: ignore[union-attr]
            raise PermissionDenied("Dashboards are for managers and admins.")
        return view(request, *args, **kwargs)

    return wrapper


@manager_required
@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    return redirect("metrics:support")


def _filters(request: HttpRequest) -> dashboards.DashboardFilters:
    form = dashboards.DashboardFilters(request.GET)
    if not form.is_valid():
        # Show what was wrong beside the filters, and the default window meanwhile.
        errors = form.errors
        form = dashboards.DashboardFilters({})
        form.is_valid()
        form.shown_errors = errors  # type: ignore[attr-defined]
    return form


@manager_required
@require_GET
def dashboard(request: HttpRequest, which: str) -> HttpResponse:
    form = _filters(request)
    data = dashboards.support(form) if which == "support" else dashboards.service(form)
    export = request.GET.get("export")
    if export:
        return _csv(which, export, data)
    context = {
        **data,
        "which": which,
        "form": form,
        "errors": getattr(form, "shown_errors", None),
        "charts": dashboards.render_charts(data["charts"]),
        "query": request.GET.urlencode(),
        "filter_query": _without(request, "export", "figure", "page"),
        "columns": dashboards.SUPPORT_COLUMNS,
    }
    return render(request, "metrics/dashboard.html", context)


def _without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _csv(which: str, export: str, data: dict[str, Any]) -> HttpResponse:
    if export not in ("figures", "agents", "teams", "series"):
        return HttpResponse("Unknown export; use figures, agents, teams or series.", status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{which}-{export}.csv"'
    writer = csv.writer(response)
    if export == "figures":
        writer.writerow(["figure", "value", "previous window", "definition"])
        for figure in data["figures"]:
            writer.writerow([figure.label, figure.value, figure.previous, figure.definition])
    elif export == "series":
        writer.writerow(["chart", "period start", "value"])
        for title, _, _, points in data["charts"]:
            for day, value in points:
                writer.writerow([title, day.isoformat(), value])
    elif which == "support":
        keys = [key for key, _ in dashboards.SUPPORT_COLUMNS]
        writer.writerow(["name", *[label for _, label in dashboards.SUPPORT_COLUMNS]])
        for row in data[export]:
            writer.writerow([row["name"], *[row[key] for key in keys]])
    else:
        writer.writerow(["name", "CSAT responses", "CSAT score"])
        for row in data[export]:
            writer.writerow([row["name"], row["responses"], row["score"]])
    return response


DRILL_PAGE = 50


@manager_required
@require_GET
def drill_down(request: HttpRequest) -> HttpResponse:
    """The tickets behind one figure, with the dashboard's window and filters."""
    figure = request.GET.get("figure", "")
    which = "service" if request.GET.get("dashboard") == "service" else "support"
    if figure not in aggregates.DRILL_FIGURES:
        return render(request, "metrics/drill.html", {"error": "Unknown figure."}, status=400)
    form = _filters(request)
    kind = "support" if which == "support" else (form.cleaned_data.get("kind") or "all")
    window = form.window(kind)
    page = request.GET.get("page", "1")
    page_number = int(page) if page.isdecimal() and 0 < int(page) < 10_000 else 1
    numbers = aggregates.drill_down(
        figure, window, limit=DRILL_PAGE + 1, offset=(page_number - 1) * DRILL_PAGE
    )
    has_next = len(numbers) > DRILL_PAGE
    numbers = numbers[:DRILL_PAGE]
    rows = {
        f.ticket_id: f
        for f in TicketFigures.objects.filter(ticket_id__in=numbers).select_related(
            "ticket", "ticket__assignee", "first_reply_agent", "final_solve_assignee"
        )
    }
    context = {
        "figure": figure,
        "label": dict(DRILL_LABELS)[figure],
        "definition": dashboards.DEFINITIONS.get(DRILL_DEFINITION.get(figure, figure), ""),
        "rows": [rows[n] for n in numbers if n in rows],
        "window": window,
        "which": which,
        "page": page_number,
        "has_next": has_next,
        "filter_query": _without(request, "page"),
        "back_query": _without(request, "figure", "page", "dashboard"),
        "business": window.hours == "business",
    }
    return render(request, "metrics/drill.html", context)


DRILL_LABELS = [
    ("tickets_created", "Tickets created"),
    ("first_response", "First responses"),
    ("resolution", "Final solves"),
    ("fcr", "Customer-initiated final solves (FCR)"),
    ("one_touch", "One-touch tickets"),
    ("reopen", "Solved tickets that were reopened"),
    ("backlog", "Backlog at the end of the window"),
    ("csat", "Tickets with a CSAT answer"),
    ("ces", "Tickets with a CES answer"),
]
DRILL_DEFINITION = {"one_touch": "fcr", "tickets_created": "tickets_created"}
