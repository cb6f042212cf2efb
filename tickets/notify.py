"""Email notifications to agents: mentions, rule notices, SLA warnings, reminders.

Agent notifications go through Django's mail API from a Celery task (tickets.tasks),
queued after commit so a rolled-back change never notifies anyone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from tickets.models import Ticket, User


def ticket_url(ticket_id: int) -> str:
    return f"{settings.SITE_URL}/tickets/{ticket_id}/"


def recipients(ticket: Ticket, who: Any) -> list[User]:
    """ "assignee", "team", or an agent's id, as active agents."""
    agents = User.objects.agents()
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
    from tickets.tasks import send_agent_notification

    ids = sorted({u.pk for u in users if u.email})
    if ids:
        send_agent_notification.delay_on_commit(ids, ticket_id, headline, text)


def notify_about_ticket(ticket: Ticket, users: list[User], headline: str, **_: Any) -> None:
    notify_agents(users, ticket.pk, headline, f"#{ticket.pk} {ticket.subject}")


def send_notification_now(user_ids: list[int], ticket_id: int, headline: str, text: str) -> int:
    """Send the emails (called by the task); returns how many were sent."""
    context = {
        "headline": headline,
        "text": text,
        "url": ticket_url(ticket_id),
        "number": ticket_id,
    }
    subject = render_to_string("tickets/email/agent-notification-subject.txt", context)
    body = render_to_string("tickets/email/agent-notification-body.txt", context)
    html = render_to_string("tickets/email/agent-notification-body.html", context)
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        mail = EmailMultiAlternatives(
            " ".join(subject.split()),
            body,
            to=[user.email],
            # RFC 3834: an agent's out-of-office robot must not answer a notice (its answer
            # could land in a mailbox as a customer's mail).
            headers={"Auto-Submitted": "auto-generated"},
        )
        mail.attach_alternative(html, "text/html")
        sent += mail.send()
    return sent
