"""Agents: the list, invitations (sent, withdrawn, and accepted by the invited person),
role, teams, away, deactivation, and resetting someone's two-factor sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import two_factor
from console import agents
from console.branding import product_name
from console.forms import AcceptInviteForm, AgentForm, InviteForm
from console.invites import InviteError, invited_user, is_invited
from tickets.models import STAFF_ROLES, Team, User
from tickets.permissions import AuthedRequest, admin_required

# The password backend: the invited person has just chosen their password.
BACKEND = "accounts.backends.PasswordBackend"


def _staff(pk: int) -> User:
    return get_object_or_404(User, pk=pk, role__in=STAFF_ROLES)


@require_http_methods(["GET", "POST"])
@admin_required
def agent_list(request: AuthedRequest) -> HttpResponse:
    """Every staff account, and the invitation form (POST invites)."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = agents.invite_agent(
            data["email"],
            role=data["role"],
            teams=data["teams"],
            first_name=data["first_name"],
            actor=request.user,
            language=data["language"],
        )
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
        return redirect("console:agents")
    staff = (
        User.objects.filter(role__in=STAFF_ROLES)
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("-is_active", "first_name", "email")
    )
    rows = [(user, is_invited(user)) for user in staff]
    status = 422 if form.is_bound else 200
    return render(request, "console/agents.html", {"rows": rows, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def agent_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    agent = _staff(pk)
    initial = {"role": agent.role, "teams": list(agent.teams.all()), "is_away": agent.is_away}
    form = AgentForm(request.POST or None, initial=initial, editor=request.user, agent=agent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        agents.change_agent(
            agent,
            role=data["role"],
            teams=data["teams"],
            is_away=data["is_away"],
            actor=request.user,
        )
        messages.success(request, _("%(name)s saved.") % {"name": agent.display_name})
        return redirect("console:agents")
    status = 422 if form.is_bound else 200
    context = {
        "form": form,
        "agent": agent,
        "invited": is_invited(agent),
        "two_factor": two_factor.is_enabled(agent),
    }
    return render(request, "console/agent_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def agent_two_factor_reset(request: AuthedRequest, pk: int) -> HttpResponse:
    """Reset someone's two-factor sign-in (a lost phone): a page that asks, then the POST."""
    agent = _staff(pk)
    if agent.pk == request.user.pk:
        messages.error(request, _("Turn your own two-factor sign-in off on your two-factor page."))
        return redirect("accounts:two-factor")
    if not two_factor.is_enabled(agent):
        messages.info(
            request, _("%(name)s does not use two-factor sign-in.") % {"name": agent.display_name}
        )
        return redirect("console:agent-edit", agent.pk)
    if request.method == "POST":
        two_factor.disable(agent, actor=request.user)
        messages.success(
            request,
            _(
                "Two-factor sign-in of %(name)s is reset: they sign in with their "
                "password and can set it up again."
            )
            % {"name": agent.display_name},
        )
        return redirect("console:agent-edit", agent.pk)
    context = {"agent": agent, "required": two_factor.is_required(agent)}
    return render(request, "console/two_factor_reset.html", context)


@require_POST
@admin_required
def agent_active(request: AuthedRequest, pk: int) -> HttpResponse:
    """Deactivate (POST active=0) or reactivate (active=1); the account stays."""
    agent = _staff(pk)
    active = request.POST.get("active") == "1"
    if agent.pk == request.user.pk and not active:
        messages.error(request, _("You cannot deactivate your own account."))
    elif agents.set_active(agent, active, actor=request.user):
        done = (
            _("%(name)s reactivated.")
            if active
            else _("%(name)s deactivated: they can no longer sign in.")
        )
        messages.success(request, done % {"name": agent.display_name})
    return redirect("console:agents")


@require_POST
@admin_required
def agent_resend(request: AuthedRequest, pk: int) -> HttpResponse:
    agent = _staff(pk)
    if is_invited(agent):
        agents.send_invitation(agent, language=translation.get_language())
        messages.success(
            request, _("A new invitation is on its way to %(email)s.") % {"email": agent.email}
        )
    return redirect("console:agents")


@require_POST
@admin_required
def agent_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    """Withdraw a pending invitation: its link stops working and says so."""
    agent = _staff(pk)
    try:
        agents.withdraw_invitation(agent, actor=request.user)
    except InviteError as exc:
        messages.error(request, str(exc))
    else:
        done = _("Invitation to %(email)s withdrawn: its link no longer works.") % {
            "email": agent.email
        }
        messages.success(request, done)
    return redirect("console:agents")


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person's page (no sign-in): their name and a password, then in."""
    try:
        user = invited_user(token)
    except InviteError as exc:
        return render(request, "console/accept_invalid.html", {"reason": str(exc)}, status=410)
    form = AcceptInviteForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = agents.accept_invitation(
                user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                password=data["password1"],
            )
        except InviteError as exc:
            return render(request, "console/accept_invalid.html", {"reason": str(exc)}, status=410)
        login(request, user, backend=BACKEND)
        messages.success(
            request,
            _("Welcome to %(product)s, %(name)s.")
            % {"product": product_name(), "name": user.first_name},
        )
        return redirect("tickets:inbox")
    status = 422 if form.is_bound else 200
    return render(request, "console/accept.html", {"form": form, "invitee": user}, status=status)
