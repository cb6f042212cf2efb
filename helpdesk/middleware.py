"""Query strings PostgreSQL could not take: refused with a 400 before any view runs.

PostgreSQL text cannot hold or be compared with a NUL character, so a %00 in any
parameter that reaches a query (searches, filters) would be a DataError, a 500. Forms and
serializers already refuse NULs in what they validate; raw `request.GET` reads (search
boxes, htmx polls) are checked here, once, for every view.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

NULL_MESSAGE = "Null characters are not allowed."


def _first_with_null(request: HttpRequest) -> str | None:
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "")
    return None


def reject_null_characters(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        name = _first_with_null(request)
        if name is None:
            return get_response(request)
        if request.path.startswith("/api/"):
            # The API's error shape (specs/api.md).
            return JsonResponse(
                {"detail": "Invalid input.", "errors": {name: [NULL_MESSAGE]}}, status=400
            )
        raise BadRequest(f"{NULL_MESSAGE} (in “{name}”)")

    return middleware


def agent_language(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """The language a signed-in agent chose (`User.language`, their /me/language/ page)
    for every page they open; without a choice, the browser's (LocaleMiddleware, before
    this). The user is the one sign-in already read (cached), so this costs no query.
    Customers' pages pick their own (tickets.languages.customer_language)."""
    known = {code for code, _ in settings.LANGUAGES}

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        chosen = getattr(user, "language", "") if getattr(user, "is_agent", False) else ""
        if chosen in known:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return get_response(request)

    return middleware
