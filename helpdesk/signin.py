"""Sign-in with a Redis-backed limit on failed attempts.

Counters live in the shared cache (Redis), so the limit holds across every web process.
Two keys are counted: the address being tried (stops guessing one account from many
places) and the client IP (stops one place from trying many accounts).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_IP = 50


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    username = (request.POST.get("username") or "").strip().lower()[:254]
    account = hashlib.sha256(username.encode()).hexdigest()[:32]
    ip = request.META.get("REMOTE_ADDR", "")
    return [
        (f"signin:fail:acct:{account}", MAX_FAILURES_PER_ACCOUNT),
        (f"signin:fail:ip:{ip}", MAX_FAILURES_PER_IP),
    ]


def is_limited(request: HttpRequest) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(request))


def record_failure(request: HttpRequest) -> None:
    for key, _limit in _keys(request):
        # add() sets the window once; incr() keeps its expiry, so the window is fixed.
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_limited(request):
            context = self.get_context_data(
                form=self.get_form(),
                rate_limited=(
                    "Too many failed sign-in attempts. Wait 15 minutes and try again, "
                    "or ask an admin to reset your password."
                ),
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        record_failure(self.request)
        return super().form_invalid(form)
