"""Which language a customer reads: one decision for the portal, the help center, the
surveys and every mail the desk sends them (docs/i18n.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Concatenate

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation

if TYPE_CHECKING:
    from tickets.models import Customer


def supported_language(value: str) -> str:
    """The language of LANGUAGES that a language tag or a header's list of them names
    ("de-AT", "fr, en", "es_ES"), the first supported one; "" when none is."""
    for tag in value.replace(";", ",").split(","):
        tag = tag.strip().replace("_", "-").lower()
        if not tag or "=" in tag:
            continue
        try:
            return translation.get_supported_language_variant(tag)
        except LookupError:
            continue
    return ""


def customer_language(customer: Customer | None, request: HttpRequest | None = None) -> str:
    """The customer's language: the one they chose (their profile), else the language of
    their mail (Content-Language, kept at intake), else their browser's (the
    set_language cookie, then Accept-Language), else the site's default."""
    if customer is not None:
        for chosen in (customer.language, customer.mail_language):
            language = supported_language(chosen)
            if language:
                return language
    if request is not None:
        return translation.get_language_from_request(request)
    return supported_language(settings.LANGUAGE_CODE) or "en"


def in_customer_language[R: HttpRequest, **P](
    view: Callable[Concatenate[R, P], HttpResponseBase],
) -> Callable[Concatenate[R, P], HttpResponseBase]:
    """A public page (the help center) in its reader's language: a signed-in customer's
    (`customer_language`: one query), anyone else's browser's."""

    @wraps(view)
    def wrapped(request: R, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        from tickets.models import Customer

        customer = None
        if request.user.is_authenticated:
            customer = (
                Customer.objects.filter(user=request.user).only("language", "mail_language").first()
            )
        if customer is None:
            return view(request, *args, **kwargs)
        with translation.override(customer_language(customer, request)):
            request.LANGUAGE_CODE = translation.get_language()
            return view(request, *args, **kwargs)

    return wrapped
