"""The privacy buttons of the ticket page's customer panel (admins): download a
customer's data, erase a customer after a confirmation page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from privacy.api import zip_response
from privacy.erase import erase_customer
from tickets.models import Customer
from tickets.permissions import AuthedRequest, admin_required


@require_GET
@admin_required
def export_view(request: AuthedRequest, pk: int) -> HttpResponseBase:
    return zip_response(get_object_or_404(Customer, pk=pk), actor=request.user)


@require_http_methods(["GET", "POST"])
@admin_required
def erase_view(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("organization"), pk=pk)
    if request.method == "POST":
        erased = erase_customer(customer, actor=request.user)
        messages.success(
            request,
            _(
                "Customer #%(number)s erased: %(messages)s messages and %(attachments)s "
                "attachments removed; their %(tickets)s tickets stay, anonymous."
            )
            % {
                "number": customer.pk,
                "messages": erased.messages,
                "attachments": erased.attachments,
                "tickets": erased.tickets,
            },
        )
        return redirect("tickets:inbox")
    tickets = customer.tickets.count()
    return render(request, "privacy/erase.html", {"customer": customer, "tickets": tickets})
