"""Branding: the admins' page, and what every page links to (the accent's stylesheet,
the logo)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from console import branding
from console.branding_forms import BrandingForm
from tickets.permissions import AuthedRequest, admin_required

# The stylesheet and the logo are linked with the version in their URL: kept a day by
# browsers, and a change gives a new URL.
MAX_AGE = 24 * 3600


@require_http_methods(["GET", "POST"])
@admin_required
def branding_edit(request: AuthedRequest) -> HttpResponse:
    brand = branding.current()
    initial = {
        "product_name": brand.product_name,
        "help_center_title": brand.help_center_title,
        "accent": brand.accent,
    }
    form = BrandingForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        branding.save_branding(
            product_name=data["product_name"],
            help_center_title=data["help_center_title"],
            accent=data["accent"],
            logo=data["logo"],
            remove_logo=data["remove_logo"],
            actor=request.user,
        )
        messages.success(request, _("Branding saved."))
        return redirect("console:branding")
    status = 422 if form.is_bound else 200
    return render(request, "console/branding.html", {"form": form}, status=status)


@require_GET
def branding_css(request: HttpRequest) -> HttpResponse:
    """`:root{--accent…}` for the chosen accent (empty without one: tokens.css's)."""
    accent = branding.current().accent
    css = ""
    if branding.COLOUR.match(accent):  # stored checked; checked again before it is served
        css = (
            f":root{{--accent:light-dark({accent},#a5abff);"
            f"--accent-fill:{accent};--accent-fill-hover:{accent};"
            f"--accent-strong:light-dark({accent},#c7cbff)}}\n"
        )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


@require_GET
def branding_logo(request: HttpRequest) -> FileResponse:
    """The logo, with the type its first bytes showed when it was saved."""
    row = branding.the_row()
    if not row.logo or row.logo_type not in branding.LOGO_EXTENSIONS:
        raise Http404("No logo.")
    response = FileResponse(row.logo.open("rb"), content_type=row.logo_type)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
