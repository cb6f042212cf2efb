"""The one way user-facing code loads a ticket: permission rule applied, 404 otherwise.
(Who may open the agent workspace's views at all is tickets.permissions.)"""

from django.http import Http404

from tickets.models import Ticket, User


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
