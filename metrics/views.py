"""Survey pages (customers, no sign-in) and the managers' dashboards."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from metrics import surveys
from metrics.forms import SurveyForm


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the survey with the clicked score chosen; only the POST records it."""
    try:
        link = surveys.read_token(token)
    except surveys.SurveyLinkError as exc:
        return render(request, "metrics/survey_invalid.html", {"error": str(exc)}, status=400)
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
        if clicked.isdigit():
            initial[main] = int(clicked)
        form = SurveyForm(link, initial=initial)
        status = 200
    context = {"form": form, "link": link, "answered": bool(answers)}
    return render(request, "metrics/survey.html", context, status=status)
