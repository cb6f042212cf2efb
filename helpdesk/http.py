"""The request type of our views, for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """Every request, as django-htmx's middleware (installed for every page) leaves it:
    `request.htmx` says whether htmx sent it. Views of signed-in people take
    tickets.permissions.AuthedRequest, which adds our User."""

    htmx: HtmxDetails
