"""Pages of account health and topics: the at-risk list, My accounts, a topic's tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from service import health, selectors, topics
from service.models import AccountHealth, Topic
from tickets.models import Organization, Team, Ticket
from tickets.permissions import AuthedRequest, agent_required, manager_required

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE = 50


class AtRiskFilters(forms.Form):
    team = forms.ModelChoiceField(
        Team.objects.all(),
        required=False,
        empty_label=gettext_lazy("All teams"),
        label=gettext_lazy("Team"),
    )
    # A name, not a menu: there can be tens of thousands of organizations.
    organization = forms.CharField(
        required=False, max_length=200, label=gettext_lazy("Organization")
    )
    kind = forms.ChoiceField(
        choices=[
            ("", gettext_lazy("Customers and organizations")),
            ("customer", gettext_lazy("Customers")),
            ("organization", gettext_lazy("Organizations")),
        ],
        required=False,
        label=gettext_lazy("Accounts"),
    )
    field = forms.ChoiceField(required=False, label=gettext_lazy("Custom field"))
    value = forms.CharField(required=False, max_length=200, label=gettext_lazy("is"))
    below = forms.IntegerField(
        required=False, min_value=1, max_value=101, label=gettext_lazy("Health below")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["field"]).choices = [
            ("", "—"),
            *((k, k) for k in selectors.field_keys()),
        ]

    def clean_organization(self) -> Organization | None:
        name = (self.cleaned_data.get("organization") or "").strip()
        if not name:
            return None
        found = Organization.objects.filter(name__iexact=name).first()
        if found is None:
            raise forms.ValidationError(_("No organization is named “%(name)s”.") % {"name": name})
        return found

    def filters(self) -> selectors.AccountFilters:
        data = self.cleaned_data
        return selectors.AccountFilters(
            team_id=data["team"].pk if data.get("team") else None,
            organization_id=data["organization"].pk if data.get("organization") else None,
            field_key=data.get("field") or "",
            field_value=(data.get("value") or "").strip(),
            kind=data.get("kind") or "",
            below=data.get("below") or selectors.AT_RISK_BELOW,
        )


def _with_worst(rows: list[AccountHealth]) -> list[AccountHealth]:
    for row in rows:
        factors = sorted(row.factors or [], key=lambda f: f["points"])
        worst = health.explain(factors[0]) if factors and factors[0]["points"] < 0 else None
        row.worst = (  # type: ignore[attr-defined]
            f"{worst['label']} ({worst['points_text']})" if worst else ""
        )
    return rows


@agent_required
@require_GET
def at_risk(request: AuthedRequest) -> HttpResponse:
    form = AtRiskFilters(request.GET)
    filters = form.filters() if form.is_valid() else selectors.AccountFilters()
    page = Paginator(selectors.at_risk(request.user, filters), PAGE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "title": _("Accounts at risk"),
        "form": form,
        "rows": _with_worst(list(page.object_list)),
        "page": page,
        "query": params.urlencode(),
        "empty": _("No account you may see is below %(score)s.") % {"score": filters.below},
    }
    return render(request, "service/at_risk.html", context)


class _HealthColumns(TypedDict):
    # The latest AccountHealth's columns, each None for an organization never measured:
    # the unsaved row shown for it carries the None too.
    score: Any
    factors: Any
    computed_at: Any


def _health_row(org: WithAnnotations[Organization, _HealthColumns]) -> AccountHealth:
    """The organization's health row as read with it (unsaved: the template reads it)."""
    row = AccountHealth(organization=org, score=org.score, factors=org.factors or [])
    row.computed_at = org.computed_at
    return row


@agent_required
@require_GET
def my_accounts(request: AuthedRequest) -> HttpResponse:
    """The organizations the agent owns, lowest health first (unmeasured ones last)."""
    health = AccountHealth.objects.filter(organization_id=OuterRef("pk"))
    organizations = (
        Organization.objects.filter(success_contact=request.user)
        .annotate(
            score=Subquery(health.values("score")[:1]),
            factors=Subquery(health.values("factors")[:1]),
            computed_at=Subquery(health.values("computed_at")[:1]),
        )
        .order_by(F("score").asc(nulls_last=True), "name", "pk")
    )
    page = Paginator(organizations, PAGE).get_page(request.GET.get("page"))
    rows = [_health_row(org) for org in page.object_list]
    context = {
        "title": _("My accounts"),
        "rows": _with_worst(rows),
        "page": page,
        "query": "",
        "empty": _("You own no organization yet: an organization's page names its owner."),
    }
    return render(request, "service/at_risk.html", context)


class TopicWindow(forms.Form):
    start = forms.DateTimeField(required=False)
    end = forms.DateTimeField(required=False)
    team = forms.IntegerField(required=False)
    mailbox = forms.IntegerField(required=False)
    kind = forms.ChoiceField(
        choices=[("", "all"), ("all", "all"), ("support", "support"), ("service", "service")],
        required=False,
    )

    def filters(self) -> topics.TopicFilters:
        data = self.cleaned_data if self.is_valid() else {}
        end: datetime = data.get("end") or timezone.now()
        start: datetime = data.get("start") or end - timedelta(days=30)
        if start >= end:
            start = end - timedelta(days=30)
        return topics.TopicFilters(
            start=start,
            end=end,
            team_id=data.get("team"),
            mailbox_id=data.get("mailbox"),
            kind=data.get("kind") or None,
        )


@manager_required
@require_GET
def topic(request: AuthedRequest, topic_id: int) -> HttpResponse:
    """A topic's tickets in the window, those the viewer may open, newest first."""
    subject = get_object_or_404(Topic, pk=topic_id)
    filters = TopicWindow(request.GET).filters()
    tickets = (
        Ticket.objects.visible_to(request.user)
        .filter(topics.topic_tickets(subject.pk, filters))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(tickets, PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "topic": subject,
        "tickets": page.object_list,
        "page": page,
        "filters": filters,
        "query": params.urlencode(),
    }
    return render(request, "service/topic.html", context)
