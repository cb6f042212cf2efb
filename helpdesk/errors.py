"""The 400 handler: a body too large to read is a 413, as every upload limit answers."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not isinstance(exception, RequestDataTooBig):
        return defaults.bad_request(request, exception)
    limit = filesizeformat(settings.MAX_UPLOAD_BYTES)
    if request.path.startswith("/api/"):
        detail = f"Request body too large (at most {settings.MAX_UPLOAD_BYTES} bytes)."
        return JsonResponse({"detail": detail, "errors": {}}, status=413)
    if request.headers.get("HX-Request"):
        # htmx shows a plain-text answer it does not swap as a notice (static/tandem/app.js).
        return HttpResponse(
            _("Too large to send: at most %(limit)s in all.") % {"limit": limit},
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    html = loader.render_to_string("413.html", {"limit": limit})
    return HttpResponse(html, status=413)
