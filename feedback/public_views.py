"""Feedback for customers: the help center's roadmap (public items by status, a signed-in
customer's vote and follow) and changelog, and the portal's "My feedback" (the items they
asked for themselves)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from feedback import selectors, services
from feedback.models import AskVia, ItemStatus
from tickets.languages import in_customer_language
from tickets.models import Customer, User
from tickets.permissions import CustomerRequest, customer_required, is_customer


def _customer(request: HttpRequest) -> Customer | None:
    """The signed-in customer's record, or None (anonymous people, staff)."""
    if not is_customer(request.user):
        return None
    return Customer.objects.filter(user=cast(User, request.user)).first()


@require_GET
@in_customer_language
def roadmap(request: HttpRequest) -> HttpResponse:
    columns = [
        (status, ItemStatus(status).label, items) for status, items in selectors.roadmap().items()
    ]
    return render(request, "feedback/roadmap.html", {"columns": columns, "nav": "roadmap"})


@require_GET
@in_customer_language
def roadmap_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.public_item(item_id)
    customer = _customer(request)
    return render(
        request,
        "feedback/roadmap_item.html",
        {
            "item": item,
            "asks": selectors.customer_asks(item, customer),
            "customer": customer,
            "nav": "roadmap",
        },
    )


def _toggle(request: CustomerRequest, item_id: int, via: str) -> HttpResponse:
    item = selectors.public_item(item_id)
    services.set_customer_ask(item, request.customer, via, on=request.POST.get("on") == "1")
    return redirect("feedback:roadmap-item", item.pk)


@customer_required
@require_POST
def vote(request: CustomerRequest, item_id: int) -> HttpResponse:
    return _toggle(request, item_id, AskVia.VOTE)


@customer_required
@require_POST
def follow(request: CustomerRequest, item_id: int) -> HttpResponse:
    return _toggle(request, item_id, AskVia.FOLLOW)


@require_GET
@in_customer_language
def changelog(request: HttpRequest) -> HttpResponse:
    page = selectors.updates(request.GET.get("page", 1))
    return render(request, "feedback/changelog.html", {"page": page, "nav": "updates"})


@customer_required
@require_GET
def my_feedback(request: CustomerRequest) -> HttpResponse:
    items = selectors.customer_items(request.customer)
    return render(request, "feedback/portal.html", {"items": items, "nav": "feedback"})
