"""Customer and organization pages of the agent workspace, merging customers, and the
ticket page's "change requester": thin views over tickets.profiles and the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import add_errors
from tickets import hooks, profiles, services
from tickets.access import get_ticket_for
from tickets.permissions import AuthedRequest, agent_required, manager_required
from tickets.profile_forms import AddressForm, CustomerForm, OrganizationForm
from tickets.services import Actor, InvalidChange


def _timeline_response(
    request: AuthedRequest, template: str, context: dict[str, Any], customer_ids: list[int]
) -> HttpResponse:
    context["panels"] = hooks.account_panels(request.user, context.get("org") or context["person"])
    context["timeline"] = profiles.timeline(
        request.user, customer_ids, request.GET.get("cursor", "")
    )
    if request.htmx and request.GET.get("cursor"):
        return render(request, "tickets/_timeline.html", context)
    return render(request, template, context, status=context.pop("status", 200))


def _saved(form: forms.Form, save: Callable[[], object]) -> bool:
    """Whether a bound, valid form was saved; a service's refusal goes on its field."""
    if not form.is_bound or not form.is_valid():
        return False
    try:
        save()
    except InvalidChange as refusal:
        add_errors(form, {refusal.field: str(refusal)})
        return False
    return True


@agent_required
@require_http_methods(["GET", "POST"])
def customer(request: AuthedRequest, customer_id: int) -> HttpResponse:
    person = profiles.get_customer_for(request.user, customer_id)
    form = CustomerForm(request.POST) if request.method == "POST" else CustomerForm.of(person)
    if _saved(form, lambda: services.update_customer(person, form.profile())):
        messages.success(request, _("Customer saved."))
        return redirect("tickets:customer", customer_id=person.pk)
    context = {
        "person": person,
        "form": form,
        "merge_form": AddressForm(),
        "status": 422 if form.is_bound else 200,
    }
    return _timeline_response(request, "tickets/customer.html", context, [person.pk])


@manager_required
@require_POST
def merge_customer(request: AuthedRequest, customer_id: int) -> HttpResponse:
    """Merge the customer of the address given into this one."""
    person = profiles.get_customer_for(request.user, customer_id)
    form = AddressForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.error_text())
        return redirect("tickets:customer", customer_id=person.pk)
    other = services.customers_by_address([form.cleaned_data["email"]]).get(
        form.cleaned_data["email"]
    )
    if other is None:
        messages.error(
            request,
            _("No customer has the address %(email)s.") % {"email": form.cleaned_data["email"]},
        )
        return redirect("tickets:customer", customer_id=person.pk)
    try:
        merged = services.merge_customers(other, person, actor=Actor.agent(request.user))
    except InvalidChange as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            ngettext(
                "%(email)s merged into this customer: %(count)s ticket moved.",
                "%(email)s merged into this customer: %(count)s tickets moved.",
                merged.tickets,
            )
            % {"email": other.email, "count": merged.tickets},
        )
    return redirect("tickets:customer", customer_id=person.pk)


@agent_required
@require_http_methods(["GET", "POST"])
def organization(request: AuthedRequest, organization_id: int) -> HttpResponse:
    org = profiles.get_organization_for(request.user, organization_id)
    form = OrganizationForm(request.POST) if request.method == "POST" else OrganizationForm.of(org)

    def save() -> object:
        data = form.cleaned_data
        with transaction.atomic():
            services.update_organization(
                org, name=data["name"], notes=data["notes"], domains=form.domain_list()
            )
            return services.set_account_owner(org, data["owner"])

    if _saved(form, save):
        messages.success(request, _("Organization saved."))
        return redirect("tickets:organization", organization_id=org.pk)
    if form.is_bound:
        org.refresh_from_db()
    members, member_count = profiles.organization_members(org)
    context = {
        "org": org,
        "form": form,
        "members": members,
        "member_count": member_count,
        "status": 422 if form.is_bound else 200,
    }
    return _timeline_response(
        request, "tickets/organization.html", context, [m.pk for m in members]
    )


@agent_required
@require_POST
def change_requester(request: AuthedRequest, number: int) -> HttpResponse:
    """The ticket page's side panel: make the customer of an address the requester (a
    new customer if nobody has it yet, as a ticket opened for them would)."""
    ticket = get_ticket_for(request.user, number, write=True)
    form = AddressForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Requester not changed: %(problems)s") % {"problems": form.error_text()}
        )
        return redirect("tickets:detail", number=ticket.number)
    person = services.get_or_create_customer(form.cleaned_data["email"])
    if services.change_requester(ticket, person, actor=Actor.agent(request.user)):
        messages.success(request, _("The requester is now %(person)s.") % {"person": person})
    return redirect("tickets:detail", number=ticket.number)
