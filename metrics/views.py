"""Survey pages (customers, no sign-in) and the managers' dashboards."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.spreadsheet import inert
from metrics import aggregates, dashboards, drill, extensions, surveys
from metrics.forms import SurveyForm
from metrics.models import SurveyResponse
from tickets.languages import customer_language
from tickets.permissions import AuthedRequest, is_agent, manager_required

# The signed cookie that makes the browser of a survey's first answer its author.
_AUTHOR_SALT = "metrics.survey.author"


def _author_cookie(link: surveys.SurveyLink) -> str:
    survey = f"t{link.ticket.pk}" if link.ticket is not None else f"i{link.invitation_id}"
    return f"survey-{survey}"


def _author_value(answers: dict[str, SurveyResponse]) -> str:
    """Names the first answer: a later answer (another row) is nobody's cookie."""
    return ",".join(sorted(str(answer.pk) for answer in answers.values()))


def _is_author(
    request: HttpRequest, link: surveys.SurveyLink, answers: dict[str, SurveyResponse]
) -> bool:
    """Whether this browser sent the survey's answer, within the link's lifetime."""
    if not answers:
        return False
    value = request.get_signed_cookie(
        _author_cookie(link),
        default=None,
        salt=_AUTHOR_SALT,
        max_age=timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS),
    )
    first = {answer.pk for answer in answers.values()}
    return value is not None and bool(first & {int(pk) for pk in value.split(",") if pk})


def _not_the_customer(request: HttpRequest, link: surveys.SurveyLink) -> str | None:
    """Why the signed-in person may not answer: staff never answer a customer's survey,
    and a signed-in customer answers only their own. None for the invited customer, and
    for anyone not signed in (the link alone names the customer)."""
    user = request.user
    if not user.is_authenticated:
        return None
    if is_agent(user) or user.is_staff or user.is_superuser:
        return _(
            "You are signed in as a member of the support team. Only the customer can "
            "answer their survey: its answers measure your team's work."
        )
    if link.customer.user_id != user.pk:
        return _("This survey was sent to someone else: only they can answer it.")
    return None


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the survey with the clicked score chosen; only the POST records it.

    The first answer is kept: the browser that sent it gets a signed cookie naming it and
    may change it until the link expires; anyone else opening the link is told it was
    answered, and cannot overwrite it (metrics/surveys.py says why)."""
    try:
        link = surveys.read_token(token)
    except surveys.SurveyLinkError as exc:
        # 404 like every other URL a customer may not use: a guessed or forged link
        # tells nothing about which surveys exist.
        return render(request, "metrics/survey_invalid.html", {"error": str(exc)}, status=404)
    # The customer's language (their profile, their mail, then this browser's).
    with translation.override(customer_language(link.customer, request)):
        return _survey(request, token, link)


def _survey(request: HttpRequest, token: str, link: surveys.SurveyLink) -> HttpResponse:
    refusal = _not_the_customer(request, link)
    if refusal is not None:
        return render(
            request,
            "metrics/survey_invalid.html",
            {"title": _("Only the customer can answer"), "error": refusal},
            status=403,
        )
    answers = surveys.existing_answers(link)
    author = _is_author(request, link, answers)
    if answers and not author:
        return _already_answered(request, link)
    if request.method == "POST":
        form = SurveyForm(link, request.POST)
        if form.is_valid():
            try:
                saved = surveys.record_answers(
                    link, form.scores(), form.cleaned_data["comment"], change=author
                )
            except surveys.AlreadyAnswered:
                return _already_answered(request, link)
            context = {
                "link": link,
                "answers": {r.kind: r for r in saved},
                "comment": form.cleaned_data["comment"],
                "token": token,
            }
            response = render(request, "metrics/survey_done.html", context)
            if not author:
                _sign_author(response, link, surveys.existing_answers(link))
            return response
        status = 400
    else:
        initial: dict[str, int | str] = {kind: answer.score for kind, answer in answers.items()}
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


def _already_answered(request: HttpRequest, link: surveys.SurveyLink) -> HttpResponse:
    return render(
        request,
        "metrics/survey_answered.html",
        {"link": link},
        status=409 if request.method == "POST" else 200,
    )


def _sign_author(
    response: HttpResponse, link: surveys.SurveyLink, answers: dict[str, SurveyResponse]
) -> None:
    response.set_signed_cookie(
        _author_cookie(link),
        _author_value(answers),
        salt=_AUTHOR_SALT,
        max_age=settings.SURVEY_LINK_MAX_AGE_DAYS * 86400,
        # Every link of the survey (a resent mail carries a new token): /survey/.
        path=reverse("metrics:survey", args=["x"]).removesuffix("x/"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@manager_required
@require_GET
def dashboard_index(request: AuthedRequest) -> HttpResponse:
    return redirect("metrics:support")


def _filters(request: HttpRequest) -> dashboards.DashboardFilters:
    form = dashboards.DashboardFilters(request.GET)
    if not form.is_valid():
        # Show what was wrong beside the filters, and the default window meanwhile.
        errors = form.errors
        form = dashboards.DashboardFilters({})
        form.is_valid()
        form.shown_errors = errors
    form.show_values_in_use()
    return form


@manager_required
@require_GET
def dashboard(request: AuthedRequest, which: str) -> HttpResponse:
    export = request.GET.get("export")
    if export:
        # A CSV is the same for every manager, whatever their language: English words
        # and raw values (ISO dates, a dot for decimals) that spreadsheets and scripts read.
        with translation.override("en"):
            form = _filters(request)
            data = dashboards.support(form) if which == "support" else dashboards.service(form)
            return _csv(which, export, data)
    form = _filters(request)
    data = dashboards.support(form) if which == "support" else dashboards.service(form)
    context = {
        **data,
        "which": which,
        "form": form,
        "errors": form.shown_errors,
        "charts": dashboards.render_charts(data["charts"]),
        "days": form.days(),
        "query": request.GET.urlencode(),
        "filter_query": _without(request, "export", "figure", "page"),
        "columns": dashboards.SUPPORT_COLUMNS,
        # What the apps above add to the service side (service: at-risk accounts, topics).
        "sections": extensions.service_sections(request.user, form, request.GET.urlencode())
        if which == "service"
        else [],
        **{f"drill_{group}": _drill_base(request, which, group) for group in ("agent", "team")},
    }
    return render(request, "metrics/dashboard.html", context)


def _without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _drill_base(request: HttpRequest, which: str, group: str) -> str:
    """The drill-down link of a table row, up to the row's agent or team id."""
    query = _without(request, "export", "figure", "page", "dashboard", group)
    return f"{reverse('metrics:drill')}?{query}&dashboard={which}&{group}="


# A CSV export lists at most this many rows (comments, the tickets behind a figure).
EXPORT_ROWS = 10_000
EXPORTS = {
    "support": ("figures", "agents", "teams", "series"),
    "service": ("figures", "agents", "teams", "series", "comments"),
}


def _csv_response(filename: str) -> tuple[HttpResponse, Any]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response, csv.writer(response)


def _csv(which: str, export: str, data: dict[str, Any]) -> HttpResponse:
    if export not in EXPORTS[which]:
        return HttpResponse(f"Unknown export; use {', '.join(EXPORTS[which])}.", status=400)
    response, writer = _csv_response(f"{which}-{export}")
    if export == "comments":
        writer.writerow(["survey", "score", "ticket", "customer", "submitted at", "comment"])
        for r in dashboards.survey_comments(data["window"], limit=EXPORT_ROWS):
            customer, at = inert(str(r.customer)), r.submitted_at.isoformat()
            writer.writerow([r.kind, r.score, r.ticket_id or "", customer, at, inert(r.comment)])
    elif export == "figures":
        writer.writerow(["figure", "value", "previous window", "detail", "definition"])
        for figure in data["figures"]:
            writer.writerow(
                [figure.label, figure.value, figure.previous, figure.detail, figure.definition]
            )
    elif export == "series":
        writer.writerow(["chart", "period start", "value"])
        for title, _, _, points in data["charts"]:
            for day, value in points:
                writer.writerow([title, day.isoformat(), value])
    elif which == "support":
        keys = [key for key, _ in dashboards.SUPPORT_COLUMNS]
        writer.writerow(["name", *[label for _, label in dashboards.SUPPORT_COLUMNS]])
        for row in data[export]:
            writer.writerow([inert(row["name"]), *[row[key] for key in keys]])
    else:
        writer.writerow(["name", "CSAT responses", "CSAT score"])
        for row in data[export]:
            writer.writerow([inert(row["name"]), row["responses"], row["score"]])
    return response


DRILL_PAGE = 50


@manager_required
@require_GET
def drill_down(request: AuthedRequest) -> HttpResponse:
    """The tickets behind one figure, with the dashboard's window and filters."""
    figure = request.GET.get("figure", "")
    which = "service" if request.GET.get("dashboard") == "service" else "support"
    if figure not in drill.DRILL_FIGURES:
        context: dict[str, Any] = {"error": _("Unknown figure.")}
        return render(request, "metrics/drill.html", context, status=400)
    form = _filters(request)
    kind = "support" if which == "support" else (form.cleaned_data.get("kind") or "all")
    window = form.window(kind)
    if request.GET.get("export") == "csv":
        with translation.override("en"):
            return _drill_csv(figure, window)
    page = request.GET.get("page", "1")
    page_number = int(page) if page.isdecimal() and 0 < int(page) < 10_000 else 1
    rows, has_next = drill.drill_rows(figure, window, page=page_number, size=DRILL_PAGE)
    context = {
        "figure": figure,
        "label": str(dict(DRILL_LABELS)[figure]),
        "definition": dashboards.DEFINITIONS.get(DRILL_DEFINITION.get(figure, figure), ""),
        "rows": rows,
        "survey": figure if figure in ("csat", "ces") else None,
        "agent_counted": drill.counts_an_agent(figure),
        "window": window,
        "days": form.days(),
        "filters": form.chosen(which),
        "errors": form.shown_errors,
        "which": which,
        "page": page_number,
        "has_next": has_next,
        "filter_query": _without(request, "page", "export"),
        "back_query": _without(request, "figure", "page", "dashboard", "export"),
        "business": window.hours == "business",
    }
    return render(request, "metrics/drill.html", context)


DRILL_LABELS = [
    ("tickets_created", gettext_lazy("Tickets created")),
    ("first_response", gettext_lazy("First responses")),
    ("resolution", gettext_lazy("Final solves")),
    ("fcr", gettext_lazy("Customer-initiated final solves (FCR)")),
    ("one_touch", gettext_lazy("One-touch tickets")),
    ("reopen", gettext_lazy("Solved tickets that were reopened")),
    ("escalation", gettext_lazy("Solved tickets that were escalated")),
    ("backlog", gettext_lazy("Backlog at the end of the window")),
    ("csat", gettext_lazy("Tickets with a CSAT answer")),
    ("ces", gettext_lazy("Tickets with a CES answer")),
]
DRILL_DEFINITION = {"one_touch": "fcr", "tickets_created": "tickets_created"}


def _drill_csv(figure: str, window: aggregates.Window) -> HttpResponse:
    """Every ticket behind a figure (up to EXPORT_ROWS), in the window's clock."""
    rows, _ = drill.drill_rows(figure, window, page=1, size=EXPORT_ROWS)
    business = window.hours == "business"
    response, writer = _csv_response(f"tickets-{figure}")
    agent = "agent counted" if drill.counts_an_agent(figure) else "assignee now"
    header = ["ticket", "subject", "status", agent, f"FRT seconds ({window.hours})"]
    header += [f"first resolution seconds ({window.hours})"]
    header += [f"full resolution seconds ({window.hours})", "agent replies", "reopens"]
    header += ["escalations", "one-touch"]
    survey = figure in ("csat", "ces")
    writer.writerow([*header, *([f"{figure} score", "comment"] if survey else [])])
    for row in rows:
        f, answer, ticket = row.figures, row.answer, row.figures.ticket
        writer.writerow(
            [
                ticket.pk,
                inert(ticket.subject),
                ticket.status,
                inert(row.agent.display_name) if row.agent else "",
                f.first_response_business_seconds if business else f.first_response_seconds,
                f.first_resolution_business_seconds if business else f.first_resolution_seconds,
                f.full_resolution_business_seconds if business else f.full_resolution_seconds,
                f.agent_replies,
                f.reopens,
                f.escalations,
                "yes" if f.one_touch else "no",
                *([answer.score, inert(answer.comment)] if survey and answer else []),
            ]
        )
    return response
