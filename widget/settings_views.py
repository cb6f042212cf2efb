"""The admins' screen of the widget: /settings/widget/ (a door beside console's pages)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tickets.permissions import AuthedRequest, admin_required
from widget import services
from widget.forms import SiteForm
from widget.models import WidgetSite


@admin_required
@require_http_methods(["GET", "POST"])
def site_list(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    site = get_object_or_404(WidgetSite, pk=pk) if pk is not None else None
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        saved = services.save_site(form.save(commit=False), created=site is None)
        messages.success(request, f"Saved “{saved.name}”.")
        return redirect("widget:settings-site", pk=saved.pk)
    context = {
        "sites": WidgetSite.objects.select_related("mailbox"),
        "site": site,
        "form": form,
        "desk": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "widget/settings.html", context, status=400 if form.errors else 200)


@admin_required
@require_POST
def rotate(request: AuthedRequest, pk: int) -> HttpResponse:
    site = services.rotate_secret(get_object_or_404(WidgetSite, pk=pk))
    messages.success(
        request,
        f"New secret for “{site.name}”: update your site's server, the old one no longer verifies.",
    )
    return redirect("widget:settings-site", pk=site.pk)
