"""The admins' screen of the widget: /settings/widget/ (a door beside console's pages)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from tickets.permissions import AuthedRequest, admin_required
from widget import services
from widget.forms import SiteForm
from widget.models import WidgetSite


def _snippets(desk: str, site: WidgetSite) -> dict[str, str]:
    """The tags to paste (code, not for translation) and the server's hash, commented."""
    src = f"{desk}{reverse('widget:script')}"
    return {
        "snippet": format_html(
            '&lt;script src="{}" data-site="{}" async&gt;&lt;/script&gt;', src, site.key
        ),
        "signed_snippet": format_html(
            '&lt;script src="{}" data-site="{}"\n        data-user-email="ada@example.com" '
            'data-user-hash="HASH" async&gt;&lt;/script&gt;\n\n# {}\n'
            "hmac.new(SECRET.encode(), email.lower().encode(), hashlib.sha256).hexdigest()",
            src,
            site.key,
            gettext("Python, on your server"),
        ),
    }


@admin_required
@require_http_methods(["GET", "POST"])
def site_list(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    site = get_object_or_404(WidgetSite, pk=pk) if pk is not None else None
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        saved = services.save_site(form.save(commit=False), created=site is None)
        messages.success(request, gettext("Saved “%(name)s”.") % {"name": saved.name})
        return redirect("widget:settings-site", pk=saved.pk)
    desk = request.build_absolute_uri("/").rstrip("/")
    context = {
        "sites": WidgetSite.objects.select_related("mailbox"),
        "site": site,
        "form": form,
        "desk": desk,
        **(_snippets(desk, site) if site else {}),
    }
    return render(request, "widget/settings.html", context, status=400 if form.errors else 200)


@admin_required
@require_POST
def rotate(request: AuthedRequest, pk: int) -> HttpResponse:
    site = services.rotate_secret(get_object_or_404(WidgetSite, pk=pk))
    messages.success(
        request,
        gettext(
            "New secret for “%(name)s”: update your site's server, the old one no longer verifies."
        )
        % {"name": site.name},
    )
    return redirect("widget:settings-site", pk=site.pk)
