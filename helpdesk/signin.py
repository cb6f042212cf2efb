"""Sign-in with a Redis-backed limit on failed attempts.

Counters live in Redis (helpdesk.ratelimit), so the limit holds across every web process.
Two counters are kept: the address being tried (stops guessing one account from many
places) and the client IP (stops one place from trying many accounts). A sign-in is
refused while either has reached its limit; only failures are counted.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from helpdesk.ratelimit import Rate

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_IP = 50


def _counters(request: HttpRequest) -> list[tuple[Rate, str]]:
    username = (request.POST.get("username") or "").strip().lower()[:254]
    ip = request.META.get("REMOTE_ADDR", "")
    return [
        (Rate("signin-fail-account", MAX_FAILURES_PER_ACCOUNT, WINDOW_SECONDS), username),
        (Rate("signin-fail-ip", MAX_FAILURES_PER_IP, WINDOW_SECONDS), ip),
    ]


def is_limited(request: HttpRequest) -> bool:
    return any(rate.reached(who) for rate, who in _counters(request))


def record_failure(request: HttpRequest) -> None:
    for rate, who in _counters(request):
        rate.hit(who)


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
