"""Custom fields: list by kind of record, define, edit, reorder, archive (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.field_forms import FieldDefinitionForm
from helpdesk.forms import add_errors
from tickets import services
from tickets.models import AppliesTo, FieldDefinition
from tickets.permissions import AuthedRequest, admin_required


@require_GET
@admin_required
def field_list(request: AuthedRequest) -> HttpResponse:
    rows = list(FieldDefinition.objects.order_by("applies_to", "position", "key"))
    groups = [
        (value, label, [d for d in rows if d.applies_to == value])
        for value, label in AppliesTo.choices
    ]
    return render(request, "console/fields.html", {"groups": groups, "count": len(rows)})


@require_http_methods(["GET", "POST"])
@admin_required
def field_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    definition = get_object_or_404(FieldDefinition, pk=pk) if pk else FieldDefinition()
    form = FieldDefinitionForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_definition(form.save(commit=False), actor=request.user)
        except services.FieldErrors as refusal:
            add_errors(form, refusal.errors)
        else:
            messages.success(request, _("Field “%(label)s” saved.") % {"label": definition.label})
            return redirect("console:fields")
    status = 422 if form.is_bound else 200
    context = {"form": form, "definition": definition}
    return render(request, "console/field_form.html", context, status=status)


@require_POST
@admin_required
def field_move(request: AuthedRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(FieldDefinition, pk=pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    services.move_definition(definition, step, actor=request.user)
    return redirect("console:fields")


@require_POST
@admin_required
def field_active(request: AuthedRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(FieldDefinition, pk=pk)
    active = request.POST.get("active") == "1"
    services.set_active(definition, active, actor=request.user)
    if active:
        messages.success(
            request, _("Field “%(label)s” is back in use.") % {"label": definition.label}
        )
    else:
        messages.success(
            request,
            _("Field “%(label)s” archived; the values already recorded are kept.")
            % {"label": definition.label},
        )
    return redirect("console:fields")
