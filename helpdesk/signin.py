"""Sign-in: one identity however it is spelled, and failed attempts counted by django-axes.

Identity. What a person types to sign in (a user name or an e-mail address) is
normalised once, here (`identity`: NFKC, then case-folded, then stripped), for finding
the user (`IdentityBackend`) and for counting failures alike: "Ana@Staff.test" written
in fullwidth letters and "ana@staff.test" are one person, with one counter.

Failures. django-axes (AxesStandaloneBackend first in AUTHENTICATION_BACKENDS, the
records in PostgreSQL through `SignInAttempts`, so sign-in works while Redis is down)
counts failed sign-ins per identity *and* client address. After AXES_FAILURE_LIMIT
failures in AXES_COOLOFF_TIME (10 in 15 minutes), that pair is refused until the cool-off
has passed since its last failure: a
brute force from one place is stopped, and nobody elsewhere can lock a person out, since
the right password from another address still signs in. One address failing across many
identities (password spraying) is refused after PER_ADDRESS_FACTOR times as many. The
person refused is told when to try again, never given a 500.

The doors: the staff sign-in page and the admin's (Django's authenticate), and the
portal's password sign-in (portal.services.authenticate_customer, the same authenticate).
The portal's sign-in links are limited per identity and address too
(portal.services.request_sign_in_link). The API takes tokens and sessions, never a
password, so it has no password to guess at.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from helpdesk.users import CachedModelBackend

# An address failing across identities is refused at this many times the limit.
PER_ADDRESS_FACTOR = 5


def identity(value: str) -> str:
    """A sign-in name as one person: compatibility forms folded (fullwidth letters are
    letters), case folded, outer spaces dropped."""
    folded = unicodedata.normalize("NFKC", value or "").casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def client_ip(request: HttpRequest) -> str | None:
    """The client address that failures are counted for (AXES_CLIENT_IP_CALLABLE)."""
    return request.META.get("REMOTE_ADDR") or None


def axes_identity(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The identity django-axes counts a sign-in under (AXES_USERNAME_CALLABLE)."""
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = request.POST.get("username", "")
    return identity(str(typed))[: AccessAttempt._meta.get_field("username").max_length or 255]


class IdentityBackend(CachedModelBackend):
    """Finds the user by the normalised identity: a user name or an e-mail address,
    whatever its case or width. A name that is one user's name and another's address
    is the first one's; one that fits several users equally signs in nobody. A signed-in
    request's user row comes from the cache (helpdesk.users.CachedModelBackend)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None or password is None:
            return None
        wanted = identity(username)
        user_model = get_user_model()
        candidates = list(
            user_model._default_manager.filter(
                Q(username__iexact=wanted) | Q(email__iexact=wanted)
            )[:4]
        )
        by_name = [u for u in candidates if identity(u.get_username()) == wanted]
        by_address = [u for u in candidates if identity(u.email) == wanted]
        matches = by_name or by_address
        if len(matches) != 1:
            # The same work as a wrong password: timing tells no one which names exist.
            user_model().set_password(password)
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class SignInAttempts(AxesDatabaseHandler):
    """django-axes' database handler, counting an address's failures across identities
    at 1/PER_ADDRESS_FACTOR. AXES_LOCKOUT_PARAMETERS lists the (identity, address) pair
    first and the address alone second."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return max(pair, address // PER_ADDRESS_FACTOR)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """A successful sign-in clears its own pair's failures, not its address's: an
        attacker with one account of their own cannot wipe what they sprayed at others."""
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return count


def retry_in_minutes(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """Whole minutes until a refused identity and address may try again."""
    ip = client_ip(request)
    latest = AccessAttempt.objects.filter(ip_address=ip).aggregate(
        pair=Max("attempt_time", filter=Q(username=axes_identity(request, credentials))),
        address=Max("attempt_time"),
    )
    last = latest["pair"] or latest["address"] or timezone.now()
    remaining = (last + settings.AXES_COOLOFF_TIME - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining / 60))


def too_many_attempts(minutes: int) -> str:
    return ngettext(
        "Too many attempts. Try again in %(minutes)s minute.",
        "Too many attempts. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def is_refused(request: HttpRequest) -> bool:
    """Whether django-axes refused (or has just locked out) this request's sign-in."""
    return bool(getattr(request, "axes_locked_out", False))


def refused(response: HttpResponse, minutes: int) -> HttpResponse:
    """A sign-in page's answer to a refused attempt: 429, with when to come back."""
    response.status_code = 429
    response["Retry-After"] = str(minutes * 60)
    return response


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a sign-in page that said so itself (429) is kept; any other
    door (the admin's sign-in) gets the plain page."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    minutes = retry_in_minutes(request, credentials)
    page = render(
        request, "registration/too_many_attempts.html", {"message": too_many_attempts(minutes)}
    )
    return refused(page, minutes)


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        if not is_refused(self.request):
            return super().form_invalid(form)
        minutes = retry_in_minutes(self.request)
        context = self.get_context_data(form=form, rate_limited=too_many_attempts(minutes))
        return refused(self.render_to_response(context), minutes)
