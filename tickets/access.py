"""The one way user-facing code loads a ticket: permission rule applied, 404 otherwise.
(Who may open the agent workspace's views at all is tickets.permissions.)"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from helpdesk.postgres import Prepared
from tickets.models import Ticket, User
from tickets.selectors import in_mailboxes, viewer_mailboxes

_RELATED = ("mailbox", "customer", "customer__organization", "assignee", "team")
# The mailbox's secrets stay in the database (a page never shows them, and decrypting
# them cost every ticket page ~0.15 ms); a use of one loads it then.
_SECRETS = ("mailbox__imap_password", "mailbox__smtp_password", "mailbox__webhook_secret")


def _agents_ticket(number: int, mailboxes: Any = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all() if mailboxes is None else in_mailboxes(Ticket.objects, mailboxes)
    return tickets.select_related(*_RELATED).defer(*_SECRETS).filter(pk=number)


# An agent's ticket, compiled once per process (the ticket page and every change read it):
# for those who see every ticket, and for the others with their mailboxes as a value.
_TICKET = Prepared(_agents_ticket, number=-7_040_404)
_TICKET_IN = Prepared(_agents_ticket, number=-7_040_404, mailboxes=[-7_050_505])


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
    if write and not user.is_agent:
        raise Http404("No such ticket")
    if user.is_authenticated and user.is_active and user.is_agent and abs(number) < 2**63:
        mailboxes = viewer_mailboxes(user)
        if mailboxes is None:
            found = _TICKET.rows(number=number)
        else:
            found = _TICKET_IN.rows(number=number, mailboxes=mailboxes)
        if not found:
            raise Http404("No such ticket")
        return found[0]
    queryset = Ticket.objects.visible_to(user).select_related(*_RELATED).defer(*_SECRETS)
    try:
        return queryset.get(pk=number)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None
