"""The request being served, so that an audit row names who did it and from where.

`remember_request` (middleware, after authentication) keeps the request in a context
variable; `audit.services.record` reads its user when the caller names no actor: Django
admin saves, DRF's token sign-in (DRF sets the user on the request it wraps, so the user
is read when the row is written, not when the request came in).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _request.get()


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer's address as the server saw it (a proxy in front sets REMOTE_ADDR)."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def remember_request(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return get_response(request)
        finally:
            _request.reset(token)

    return middleware
