"""Teams: list, create, edit (name and staff members), delete."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import agents
from console.forms import TeamForm
from tickets.models import Team
from tickets.permissions import AuthedRequest, admin_required


@require_GET
@admin_required
def team_list(request: AuthedRequest) -> HttpResponse:
    teams = Team.objects.annotate(
        member_count=Count("members", distinct=True),
        mailbox_count=Count("mailboxes", distinct=True),
    ).order_by("name")
    return render(request, "console/teams.html", {"teams": teams})


@require_http_methods(["GET", "POST"])
@admin_required
def team_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk) if pk else Team()
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        agents.save_team(form.save(commit=False), form.cleaned_data["members"], actor=request.user)
        messages.success(request, _("Team “%(name)s” saved.") % {"name": team.name})
        return redirect("console:teams")
    status = 422 if form.is_bound else 200
    return render(request, "console/team_form.html", {"form": form, "team": team}, status=status)


@require_POST
@admin_required
def team_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=pk)
    agents.delete_team(team, actor=request.user)
    messages.success(
        request,
        _("Team “%(name)s” deleted; its tickets keep their history.") % {"name": team.name},
    )
    return redirect("console:teams")
