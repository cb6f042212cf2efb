"""The colour scheme each person picks: light, dark or the system's (the default).

Kept in a cookie rather than on the user: the same switch serves agents, customers and
signed-out readers of the help center, and the choice belongs to the device as much as to
the person. Pages read it through the context processor and set <html data-theme>, which
tokens.css turns into one palette or the other.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

COOKIE = "theme"
CHOICES = (("system", "System"), ("light", "Light"), ("dark", "Dark"))
_FORCED = {"light", "dark"}
_ONE_YEAR = 365 * 24 * 3600


def theme(request: HttpRequest) -> dict[str, object]:
    """Context processor: `theme` is "light", "dark" or "" (follow the system)."""
    chosen = request.COOKIES.get(COOKIE, "")
    return {"theme": chosen if chosen in _FORCED else "", "theme_choices": CHOICES}


@require_POST
def set_theme(request: HttpRequest) -> HttpResponse:
    """Store the choice and go back to the page it was made on (404-free for any value:
    an unknown one means the system's)."""
    chosen = request.POST.get("theme", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if chosen in _FORCED:
        response.set_cookie(COOKIE, chosen, max_age=_ONE_YEAR, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
