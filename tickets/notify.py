"""Notifications to agents: mentions, assignments, customer replies, SLA warnings, rule
notices, reminders; in the app (the bell) and by email.

One door for every sender (the mail app's notices, the workflow's mentions, rules, SLA
warnings and reminders): `notify_agents`. A notice of one of the kinds agents choose
(NotificationKind) reaches each agent in the app and by email as their settings say
(`wants`); the other notices are emails, as before. Either way it reaches only those who
may open the ticket (User.objects.may_open; the email task checks again when it sends).

Emails go through Django's mail API from a Celery task (tickets/tasks.py, which runs
tickets/agent_mail.py), queued after commit so a rolled-back change never notifies
anyone; in-app notices are rows written in the caller's transaction, for the same
reason. They are a courtesy, not a record: the ticket's history holds what they say. A
notice raised while the broker is down is logged and not mailed; the change that raised
it stands (helpdesk.celery.enqueue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Subquery
from django.utils import translation

from helpdesk.celery import enqueue_on_commit
from tickets.models import Notification, NotificationKind, Ticket, User
from tickets.tasks import send_agent_notification

# Each kind's settings on the agent (their notifications page): (in the app, by email).
SETTINGS: dict[str, tuple[str, str]] = {
    NotificationKind.MENTION: ("app_on_mention", "notify_on_mention"),
    NotificationKind.ASSIGNMENT: ("app_on_assignment", "notify_on_assignment"),
    NotificationKind.CUSTOMER_REPLY: ("app_on_customer_reply", "notify_on_customer_reply"),
    NotificationKind.SLA_WARNING: ("app_on_sla_warning", "notify_on_sla_warning"),
}
APP, EMAIL = 0, 1

# A notice's headline: fixed text, or a function that words it (gettext with its values)
# and is called in each recipient's language, so agents read notices in their own.
Headline = str | Callable[[], str]


def worded(headline: Headline, user: User) -> str:
    """`headline` in `user`'s language (their choice on /me/language/, else the desk's)."""
    if not callable(headline):
        return headline
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(headline())


def wants(user: User, kind: str, channel: int) -> bool:
    """Whether `user` asked for notices of `kind` in the app (APP) or by email (EMAIL)."""
    return bool(getattr(user, SETTINGS[kind][channel]))


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


def notify_agents(
    users: list[User],
    ticket_id: int,
    headline: Headline,
    text: Headline = "",
    *,
    kind: str = "",
) -> None:
    """Tell `users` about a ticket: for a `kind` of NotificationKind, in the app and by
    email as each one's settings say, only those who may open it (one query); otherwise
    by email. Emails are queued to be sent after the surrounding transaction commits, one
    task per language. Each recipient reads the headline and text in their own language
    (`worded`)."""
    ids = {u.pk for u in users}
    if not ids:
        return
    email_to = [u for u in users if u.email]
    if kind:
        mailbox = Subquery(Ticket.objects.filter(pk=ticket_id).values("mailbox_id")[:1])
        allowed = list(User.objects.may_open(mailbox).filter(pk__in=ids))
        Notification.objects.bulk_create(
            Notification(
                recipient=user,
                kind=kind,
                ticket_id=ticket_id,
                headline=worded(headline, user)[:200],
                text=worded(text, user)[:500],
            )
            for user in allowed
            if wants(user, kind, APP)
        )
        email_to = [u for u in allowed if u.email and wants(u, kind, EMAIL)]
    by_words: dict[tuple[str, str], set[int]] = {}
    for user in email_to:
        by_words.setdefault((worded(headline, user), worded(text, user)), set()).add(user.pk)
    for (words, body), ids in by_words.items():
        enqueue_on_commit(send_agent_notification, sorted(ids), ticket_id, words, body)


def notify_about_ticket(ticket: Ticket, users: list[User], headline: Headline, **_: Any) -> None:
    notify_agents(users, ticket.pk, headline, f"#{ticket.pk} {ticket.subject}")
