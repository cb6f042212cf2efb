"""Email notifications to agents: mentions, rule notices, SLA warnings, reminders.

Agent notifications go through Django's mail API from a Celery task (tickets/tasks.py,
which runs tickets/agent_mail.py), queued after commit so a rolled-back change never
notifies anyone. They are a courtesy, not a record: the ticket's history holds what they
say. A notice raised while the broker is down is logged and not sent; the change that
raised it stands (helpdesk.celery.enqueue).
"""

from __future__ import annotations

from typing import Any

from helpdesk.celery import enqueue_on_commit
from tickets.models import Ticket, User
from tickets.tasks import send_agent_notification


def recipients(ticket: Ticket, who: Any) -> list[User]:
    """ "assignee", "team", or an agent's id, as active agents who may open the ticket
    (User.objects.may_open: a team member or a named agent who cannot is left out)."""
    agents = User.objects.may_open(ticket.mailbox_id)
    if who == "assignee":
        return list(agents.filter(pk=ticket.assignee_id)) if ticket.assignee_id else []
    if who == "team":
        return list(agents.filter(teams=ticket.team_id)) if ticket.team_id else []
    try:
        return list(agents.filter(pk=int(who)))
    except (TypeError, ValueError):
        return []


def notify_agents(users: list[User], ticket_id: int, headline: str, text: str = "") -> None:
    """Queue one email per agent, sent after the surrounding transaction commits."""
    ids = sorted({u.pk for u in users if u.email})
    if ids:
        enqueue_on_commit(send_agent_notification, ids, ticket_id, headline, text)


def notify_about_ticket(ticket: Ticket, users: list[User], headline: str, **_: Any) -> None:
    notify_agents(users, ticket.pk, headline, f"#{ticket.pk} {ticket.subject}")
