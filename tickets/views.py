from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.models import Ticket


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    tickets = (
        Ticket.objects.visible_to(request.user)
        .open()
        .select_related("customer", "assignee")
        .order_by("-updated_at", "-number")[:50]
    )
    return render(request, "tickets/inbox.html", {"tickets": tickets})
