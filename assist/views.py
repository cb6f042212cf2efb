"""The assist panel of the ticket page (loaded after the page, so the page itself keeps
its queries), its one-click actions, and the admins' screen."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assist import drafting, routing, services, tasks
from assist.models import FIELD_LABELS, RoutingModel, Suggestion, UseKind
from assist.similar import first_message_text, relevant_articles, similar_solved
from helpdesk.celery import enqueue
from tickets.access import get_ticket_for
from tickets.models import Team, Ticket
from tickets.permissions import (
    AuthedRequest,
    acting_agent_required,
    admin_required,
    agent_required,
)
from tickets.services import Actor, InvalidChange


@agent_required
@require_GET
def panel(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    text = first_message_text(ticket)
    context = {
        "ticket": ticket,
        "suggestions": services.suggestions_for(ticket, text),
        "solved": similar_solved(ticket, request.user, text),
        "articles": relevant_articles(request.user, text),
        "drafting": drafting.enabled(),
    }
    return render(request, "assist/panel.html", context)


@acting_agent_required
@require_POST
def apply_suggestion(request: AuthedRequest, number: int, pk: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number, write=True)
    suggestion = get_object_or_404(Suggestion, pk=pk, ticket=ticket)
    try:
        services.apply(suggestion, actor=Actor.agent(request.user))
    except (InvalidChange, Team.DoesNotExist) as exc:
        messages.error(request, _("Not applied: %(reason)s") % {"reason": exc})
    else:
        messages.success(
            request,
            _("Applied the suggested %(field)s: %(value)s.")
            % {"field": suggestion.field_label, "value": suggestion.value},
        )
    return redirect("tickets:detail", number=ticket.number)


@acting_agent_required
@require_POST
def record_use(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for(request.user, number)
    kind = request.POST.get("kind", "")
    source = request.POST.get("source", "")
    if kind not in UseKind.values or (source and not source.isdigit()):
        return HttpResponse("Unknown suggestion.", status=400)
    services.record_use(ticket, request.user, kind, int(source) if source else None)
    return HttpResponse(status=204)


def _draft_payload(ticket: Ticket, request: AuthedRequest) -> dict:
    text = first_message_text(ticket)
    return drafting.payload(
        ticket, relevant_articles(request.user, text), similar_solved(ticket, request.user, text)
    )


@acting_agent_required
@require_POST
def draft(request: AuthedRequest, number: int) -> HttpResponse:
    if not drafting.enabled():
        raise Http404("No drafting model is set up.")
    ticket = get_ticket_for(request.user, number)
    try:
        text = drafting.draft(_draft_payload(ticket, request))
    except drafting.DraftError as exc:
        return render(request, "assist/draft.html", {"error": str(exc)}, status=502)
    services.record_use(ticket, request.user, UseKind.DRAFT, None)
    return render(request, "assist/draft.html", {"ticket": ticket, "text": text})


@admin_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        queued = enqueue(tasks.retrain_routing, otherwise=routing.train)
        messages.success(
            request,
            _("Retraining in the background: the figures below change when it is done.")
            if queued
            else _("Retrained."),
        )
        return redirect("assist:settings")
    since = timezone.now() - timedelta(days=30)
    preview, preview_error = None, ""
    number = request.GET.get("ticket", "").strip().lstrip("#")
    if number:
        ticket = Ticket.objects.filter(pk=number).first() if number.isdigit() else None
        if ticket is None:
            preview_error = _("No ticket #%(number)s.") % {"number": number}
        else:
            preview = json.dumps(_draft_payload(ticket, request), indent=2, ensure_ascii=False)
    counts = services.use_counts(since)
    run = RoutingModel.objects.order_by("-trained_at", "-id").defer("pipelines").first()
    context = {
        "run": run,
        "evaluation": [
            (FIELD_LABELS.get(field, field), figures)
            for field, figures in (run.evaluation if run else {}).items()
        ],
        "in_use": services.accuracy_in_use(since),
        "uses": [(label, counts.get(kind, 0)) for kind, label in UseKind.choices],
        "drafting": drafting.enabled(),
        "preview": preview,
        "preview_error": preview_error,
        "number": number,
    }
    return render(request, "assist/settings.html", context)
