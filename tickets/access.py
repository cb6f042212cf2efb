"""The one way user-facing code loads a ticket: permission rule applied, 404 otherwise;
and the gate of the agent workspace's views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from tickets.models import Ticket, User

View = Callable[..., HttpResponse]


def get_ticket_for(user: User, number: int | str, *, write: bool = False) -> Ticket:
    """The ticket `number` if `user` may see it (and, with write=True, change it).

    Customers may read their own (and shared-organization) tickets but never change
    them through agent paths; any ticket they may not see is a 404, never a 403, so
    ticket numbers cannot be probed.
    """
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404("No such ticket") from None
    queryset = Ticket.objects.visible_to(user).select_related(
        "mailbox", "customer", "customer__organization", "assignee", "team"
    )
    if write and not user.is_agent:
        raise Http404("No such ticket")
    try:
        return queryset.get(pk=number)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None


def agent_required(view: View) -> View:
    """Signed-in staff only. Customers are sent to the portal (GET) or get a 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_agent:  # type: ignore[union-attr]
            if request.method == "GET" and not request.htmx:  # type: ignore[attr-defined]
                return redirect("/portal/")
            raise Http404("Not found")
        return view(request, *args, **kwargs)

    return wrapped
