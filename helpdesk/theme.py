"""The colour scheme each person picks: light, dark or the system's (the default).

Kept on the signed-in person (`User.theme`), so it follows them from device to device,
and in a cookie, which serves signed-out readers of the help center and anyone who has
not picked one while signed in. Pages read it through the context processor and set
<html data-theme>, which tokens.css turns into one palette or the other.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

COOKIE = "theme"
CHOICES = (("system", _("System")), ("light", _("Light")), ("dark", _("Dark")))
_KNOWN = {value for value, _ in CHOICES}
_FORCED = {"light", "dark"}
_ONE_YEAR = 365 * 24 * 3600


def theme(request: HttpRequest) -> dict[str, object]:
    """Context processor: `theme` is "light", "dark" or "" (follow the system)."""
    chosen = _signed_in_choice(request) or request.COOKIES.get(COOKIE, "")
    return {"theme": chosen if chosen in _FORCED else "", "theme_choices": CHOICES}


def _signed_in_choice(request: HttpRequest) -> str:
    """The signed-in person's stored choice, "" if none (or nobody is signed in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return getattr(user, "theme", "") or ""


@require_POST
def set_theme(request: HttpRequest) -> HttpResponse:
    """Store the choice and go back to the page it was made on (404-free for any value:
    an unknown one means the system's)."""
    chosen = request.POST.get("theme", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        user.theme = chosen if chosen in _KNOWN else "system"
        user.save(update_fields=["theme"])
    if chosen in _FORCED:
        response.set_cookie(COOKIE, chosen, max_age=_ONE_YEAR, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
