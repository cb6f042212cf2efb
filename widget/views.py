"""The widget's public doors: the script a site embeds, the panel it frames, and the
panel's calls. None of them reads a cookie: a call names its site by key and its
conversation by a signed token, so there is no ambient authority for CSRF to abuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.ratelimit import Rate
from helpdesk.signin import client_ip
from kb.access import get_article_for
from kb.search import search_articles
from portal.services import suggestion_opened
from tickets.languages import supported_language
from widget import live, services
from widget.forms import ContactForm, ReplyForm
from widget.models import WidgetSite

SEARCH_LIMIT = 5
# Anyone may write through the widget without signing in: a cap per client address keeps
# one script from filling the inbox (the portal's sign-in links are capped the same way).
CONTACTS_PER_IP = Rate("widget-contact-ip", limit=20, window=3600)


def in_panel_language[V: Callable[..., HttpResponse]](view: V) -> V:
    """The panel and its calls in the visitor's language: the `lang` the launcher passes
    (its tag's data-lang, else the embedding page's <html lang>), else the browser's
    Accept-Language (LocaleMiddleware's choice)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = supported_language(request.GET.get("lang", ""))
        if not language:
            return view(request, *args, **kwargs)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


def launcher_labels() -> dict[str, str]:
    """The launcher's "Help" in each language of the desk ("" for the default)."""
    labels = {}
    for code in ["", *(code for code, _name in settings.LANGUAGES)]:
        with translation.override(code or settings.LANGUAGE_CODE):
            labels[code] = gettext("Help")
    return labels


def _errors(form: Any) -> JsonResponse:
    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)


@require_GET
def script(request: HttpRequest) -> HttpResponse:
    # JSON with "<" escaped cannot end a script element, whatever a translator writes.
    labels = json.dumps(launcher_labels(), ensure_ascii=False).replace("<", "\\u003C")
    response = render(
        request, "widget/v1.js", {"labels": labels}, content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _page_url(site: WidgetSite, url: str) -> str:
    """The embedding page's address, kept only when it is on one of the site's origins."""
    return url if any(url == o or url.startswith(o + "/") for o in site.allowed_origins) else ""


@xframe_options_exempt
@require_GET
@in_panel_language
def frame(request: HttpRequest) -> HttpResponse:
    site = services.active_site(request.GET.get("site", ""))
    email = request.GET.get("email", "")
    verified = services.verified_email(site, email, request.GET.get("hash", ""))
    context = {
        "site": site,
        "visit": services.start_visit().pk,
        "email": verified or "",
        "user_hash": request.GET.get("hash", "") if verified else "",
        "page_url": _page_url(site, request.GET.get("page", "")),
    }
    response = render(request, "widget/frame.html", context)
    # Only the site's own pages may frame the panel; every other page of the desk
    # keeps frame-ancestors 'none' and X-Frame-Options DENY.
    response._csp_config = {  # type: ignore[attr-defined]
        **settings.SECURE_CSP,
        "frame-ancestors": list(site.allowed_origins) or ["'none'"],
    }
    return response


@require_GET
@in_panel_language
def search(request: HttpRequest) -> JsonResponse:
    services.active_site(request.GET.get("site", ""))
    result = search_articles(request.GET.get("q", "")[:200], user=None, limit=SEARCH_LIMIT)
    visit = request.GET.get("visit", "")
    if result.hits and visit:
        services.searched(visit, len(result.hits))
    return JsonResponse(
        {
            "articles": [
                {
                    "title": hit.article.title,
                    "url": reverse("widget:open", args=[visit or "-", hit.article.pk]),
                }
                for hit in result.hits
            ]
        }
    )


@require_GET
def open_article(request: HttpRequest, visit: str, article: int) -> HttpResponse:
    shown = get_article_for(None, article)
    suggestion_opened(None, visit, shown)
    return redirect(shown)


@csrf_exempt
@require_POST
@in_panel_language
def contact(request: HttpRequest) -> JsonResponse:
    site = services.active_site(request.GET.get("site", ""))
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _errors(form)
    if CONTACTS_PER_IP.hit(client_ip(request) or ""):
        too_many = {
            "__all__": [{"message": gettext("Too many messages from here: try again later.")}]
        }
        return JsonResponse({"errors": too_many}, status=429)
    data = form.cleaned_data
    verified = services.verified_email(site, data["email"], data["user_hash"]) is not None
    ticket = services.file_ticket(
        site,
        email=data["email"],
        name=data["name"],
        subject=data["subject"],
        body=data["body"],
        page_url=_page_url(site, data["page_url"]),
        verified=verified,
        visit_id=data["visit"],
    )
    return JsonResponse(
        {"token": services.conversation_token(site, ticket), "number": ticket.pk}, status=201
    )


@require_GET
def conversation(request: HttpRequest) -> JsonResponse:
    ticket = services.followed_ticket(request.GET.get("token", ""))
    return JsonResponse(
        {
            "number": ticket.pk,
            "subject": ticket.subject,
            "messages": services.new_messages(ticket.pk, 0),
        }
    )


@csrf_exempt
@require_POST
@in_panel_language
def reply(request: HttpRequest) -> JsonResponse:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _errors(form)
    token = form.cleaned_data["token"]
    follow = services.read_token(token)
    ticket = services.followed_ticket(token)
    continued = services.reply(follow.site_id, ticket, form.cleaned_data["body"])
    site = WidgetSite.objects.get(pk=follow.site_id)
    return JsonResponse(
        {"token": services.conversation_token(site, continued), "number": continued.pk},
        status=201,
    )


async def stream(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    token = request.GET.get("token", "")
    ticket = await services.afollowed_ticket(token)
    after = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    response = StreamingHttpResponse(
        live.stream(ticket.pk, int(after) if after.isdigit() else 0),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
