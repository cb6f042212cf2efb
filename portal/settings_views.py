"""The request forms' settings pages (admins), in the settings area: list, define,
edit, take out of the portal. Saved by portal.request_forms, each save audited."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import add_errors
from portal import request_forms
from portal.forms import RequestFormSettingsForm
from portal.models import RequestForm
from tickets.permissions import AuthedRequest, admin_required


@require_GET
@admin_required
def form_list(request: AuthedRequest) -> HttpResponse:
    forms = RequestForm.objects.select_related("team", "mailbox").order_by("position", "name")
    return render(request, "portal/settings/forms.html", {"forms": forms})


@require_http_methods(["GET", "POST"])
@admin_required
def form_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    request_form = get_object_or_404(RequestForm, pk=pk) if pk else RequestForm()
    form = RequestFormSettingsForm(request.POST or None, instance=request_form)
    if request.method == "POST" and form.is_valid():
        try:
            request_forms.save_request_form(form.save(commit=False), actor=request.user)
        except request_forms.FormRefused as refusal:
            add_errors(form, refusal.errors)
        else:
            messages.success(
                request, _("Request form “%(name)s” saved.") % {"name": request_form.name}
            )
            return redirect("portal_settings:forms")
    status = 422 if form.is_bound else 200
    context = {"form": form, "request_form": request_form}
    return render(request, "portal/settings/form.html", context, status=status)


@require_POST
@admin_required
def form_active(request: AuthedRequest, pk: int) -> HttpResponse:
    request_form = get_object_or_404(RequestForm, pk=pk)
    active = request.POST.get("active") == "1"
    request_forms.set_form_active(request_form, active, actor=request.user)
    done = (
        _("Request form “%(name)s” is offered in the portal again.")
        if active
        else _("Request form “%(name)s” is no longer offered.")
    )
    messages.success(request, done % {"name": request_form.name})
    return redirect("portal_settings:forms")
