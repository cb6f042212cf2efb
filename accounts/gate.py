"""The second step of signing in, between the password and a session that opens pages.

Two ways in, one gate:

- The staff sign-in page (accounts.views.SignInView) does not sign in a person who has
  two-factor on after the password: it remembers who they are in the session
  (`begin_second_step`, good for PENDING_SECONDS) and asks for a code; only the right
  code signs them in (accounts.views.verify).
- Any other sign-in (the admin's page, a test's force_login) signs in first; the
  user_logged_in receiver below then marks the session with the step still due ("verify"
  for a person with two-factor on, "setup" for one whose role must have it and who has not
  turned it on yet), and `two_factor_gate` sends every request of that session to that
  step's page until it is done. A person whose role requires two-factor and who signed in
  with a password on the sign-in page is sent to set it up the same way.

Single sign-on (accounts.oidc) leaves sign-in policy to the identity provider: no step is
due after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts import two_factor
from tickets.models import User

PENDING = "accounts.pending"
DUE = "accounts.second_step"
PENDING_SECONDS = 300
VERIFY, SETUP = "verify", "setup"
STEP_PAGES = {VERIFY: "accounts:verify", SETUP: "accounts:two-factor"}
# Pages a session with a step due may still open.
OPEN_PATHS = ("/static/", "/healthz", "/favicon.ico")
OIDC_BACKEND = "accounts.oidc.AgentOIDCBackend"


def safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("tickets:inbox")


def begin_second_step(request: HttpRequest, user: User, next_url: str) -> None:
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", ""),
        "next": next_url,
        "at": time.time(),
    }


def pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The person who gave the right password and owes a code, if still in time."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict) or time.time() - state.get("at", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(state["user"]), is_active=True).first()
    return (user, state) if user is not None else None


def end_second_step(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)
    request.session.pop(DUE, None)


def step_due(user: User) -> str | None:
    if two_factor.is_enabled(user):
        return VERIFY
    if two_factor.is_required(user):
        return SETUP
    return None


def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not getattr(user, "is_agent", False):
        return
    if (
        getattr(user, "otp_device", None) is not None
        or getattr(user, "backend", "") == OIDC_BACKEND
    ):
        return
    due = step_due(user)
    if due is not None:
        request.session[DUE] = due


def connect() -> None:
    auth_signals.user_logged_in.connect(_signed_in, dispatch_uid="accounts.second_step")


def two_factor_gate(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: a session with a step due opens only that step's page (and sign-out)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        due = request.session.get(DUE) if hasattr(request, "session") else None
        if due in STEP_PAGES and request.user.is_authenticated:
            page = reverse(STEP_PAGES[due])
            allowed = (page, reverse("accounts:verify"), reverse("logout"))
            if request.path not in allowed and not request.path.startswith(OPEN_PATHS):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Finish signing in: two-factor sign-in is due."}, status=403
                    )
                return redirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
        return get_response(request)

    return middleware
