"""The sign-in pages: password, the second step, turning two-factor on and off, and the
admins' two-factor policy."""

from __future__ import annotations

from typing import Any, cast

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import gate, oidc, two_factor
from accounts.backends import SSO_ONLY
from accounts.forms import CodeForm, TwoFactorPolicyForm
from accounts.models import SignInPolicy
from audit.models import AuditKind
from audit.services import record_change, snapshot
from helpdesk import signin
from helpdesk.ratelimit import RateLimited
from tickets.models import User
from tickets.permissions import AuthedRequest, admin_required, agent_required


class SignInView(signin.SignInView):
    """The staff sign-in page: the password, then (for those who have it on) a code; or
    single sign-on, when configured."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if oidc.enabled():
            context["sso_name"] = settings.OIDC_PROVIDER_NAME
            context["sso_only"] = not settings.AGENT_PASSWORD_SIGN_IN
        return context

    def form_invalid(self, form: Any) -> HttpResponse:
        if getattr(self.request, SSO_ONLY, False):
            form.errors.clear()
            form.add_error(None, _("Agents sign in with single sign-on."))
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        user = cast(User, form.get_user())
        if user.is_agent and two_factor.is_enabled(user):
            gate.begin_second_step(self.request, user, self.get_success_url())
            return redirect("accounts:verify")
        return super().form_valid(form)


def _too_many(request: HttpRequest, form: CodeForm, template: str, error: RateLimited) -> Any:
    minutes = max(1, -(-error.retry_after // 60))
    page = render(
        request, template, {"form": form, "rate_limited": signin.too_many_attempts(minutes)}
    )
    return signin.refused(page, minutes)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the app, or a recovery code."""
    template = "accounts/verify.html"
    waiting = gate.pending(request)
    if waiting is not None:
        user, state = waiting
    elif request.user.is_authenticated and request.session.get(gate.DUE) == gate.VERIFY:
        user, state = cast(User, request.user), {"next": request.GET.get("next")}
    else:
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.check_code(user, form.cleaned_data["code"])
        except RateLimited as error:
            return _too_many(request, form, template, error)
        if device is None:
            form.add_error("code", _("That code is not right. Check your app and try again."))
        else:
            if waiting is not None:
                user.otp_device = device  # type: ignore[attr-defined]
                login(request, user, backend=state["backend"] or None)
            else:
                django_otp.login(request, device)
            gate.end_second_step(request)
            return HttpResponseRedirect(gate.safe_next(request, state.get("next")))
    return render(request, template, {"form": form, "person": user})


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@agent_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_page(request: AuthedRequest) -> HttpResponse:
    """An agent's two-factor settings: turn on (scan, confirm one code, get the recovery
    codes once), renew the recovery codes, turn off."""
    user = request.user
    required = two_factor.is_required(user)
    if not two_factor.is_enabled(user):
        device = two_factor.setup_device(user)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            codes = two_factor.enable(user, device, form.cleaned_data["code"])
            if codes is not None:
                device.refresh_from_db()
                django_otp.login(request, device)
                gate.end_second_step(request)
                return _codes_page(request, codes)
            form.add_error("code", _("That code is not right. Check the time on your phone."))
        context = {
            "form": form,
            "qr": two_factor.qr_svg(device),
            "secret": two_factor.secret_text(device),
            "required": required,
            "next": gate.safe_next(request, request.GET.get("next")),
        }
        return render(request, "accounts/two_factor_setup.html", context)

    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and form.is_valid():
        if action == "disable" and required:
            form.add_error(
                None, _("Your role must use two-factor sign-in: it cannot be turned off.")
            )
        else:
            try:
                device = two_factor.check_code(user, form.cleaned_data["code"])
            except RateLimited as error:
                return _too_many(request, form, "accounts/two_factor.html", error)
            if device is None:
                form.add_error("code", _("That code is not right."))
            elif action == "disable":
                two_factor.disable(user)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("accounts:two-factor")
            else:
                return _codes_page(request, two_factor.renew_recovery_codes(user))
    context = {
        "form": form,
        "required": required,
        "codes_left": two_factor.recovery_codes_left(user),
    }
    return render(request, "accounts/two_factor.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def policy(request: AuthedRequest) -> HttpResponse:
    """Admins: which roles must use two-factor sign-in."""
    current = SignInPolicy.current()
    form = TwoFactorPolicyForm(request.POST or None, initial={"roles": current.two_factor_roles})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            row = SignInPolicy.objects.select_for_update().get(pk=current.pk)
            before = snapshot(row)
            row.two_factor_roles = sorted(form.cleaned_data["roles"])
            row.save(update_fields=["two_factor_roles"])
            record_change(AuditKind.SETTINGS, row, before, snapshot(row))
        messages.success(
            request, _("Saved. People of these roles set up two-factor at next sign-in.")
        )
        return redirect("accounts:policy")
    return render(request, "accounts/policy.html", {"form": form})
