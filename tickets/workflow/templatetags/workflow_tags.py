"""Ticket-page panels of the team workflow: SLA countdown, presence, snooze, reminders, merge.

`{% ticket_workflow ticket %}` renders the side panel (one query: the agent's open
reminders; the SLA policy's name comes from the policies held in the process);
`{% canned_picker ticket %}` the reply box's canned-reply search;
`{{ conversation|max_message_id }}` what the reply form has seen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.postgres import Prepared
from tickets.models import Message, Ticket, User
from tickets.workflow import sla
from tickets.workflow.models import CannedReply, Reminder

register = template.Library()


_WORDS = {
    "days": _("%(days)sd %(hours)sh"),
    "hours": _("%(hours)sh %(minutes)sm"),
    "minutes": _("%(minutes)sm"),
    "first_reply": pgettext_lazy("SLA target", "First reply"),
    "resolution": pgettext_lazy("SLA target", "Resolution"),
    "met": pgettext_lazy("SLA target", "met"),
    "missed": _("missed by %(span)s"),
    "overdue": _("overdue by %(span)s"),
    "due": _("due in %(span)s"),
}


@lru_cache(maxsize=16)
def _words(language: str | None) -> dict[str, str]:
    """The SLA badge's words in one language, looked up once per process: the inbox
    shows a badge on most rows."""
    return {key: str(text) for key, text in _WORDS.items()}


def _span(delta: timedelta, words: dict[str, str]) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return words["days"] % {"days": days, "hours": hours}
    if hours:
        return words["hours"] % {"hours": hours, "minutes": mins}
    return words["minutes"] % {"minutes": mins}


def sla_targets(ticket: Ticket, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each SLA target as the panel shows it: met, missed, overdue, due soon, or due."""
    now = now or timezone.now()
    words = _words(get_language())
    rows = []
    for label, due, done in (
        (words["first_reply"], ticket.first_response_due_at, ticket.first_response_at),
        (words["resolution"], ticket.resolution_due_at, ticket.solved_at),
    ):
        if due is None:
            continue
        if done is not None:
            if done <= due:
                state, text = "met", words["met"]
            else:
                state, text = "missed", words["missed"] % {"span": _span(done - due, words)}
        elif not ticket.is_open:
            continue
        elif due <= now:
            state, text = "overdue", words["overdue"] % {"span": _span(now - due, words)}
        else:
            state = "soon" if due - now <= timedelta(hours=1) else "due"
            text = words["due"] % {"span": _span(due - now, words)}
        rows.append({"label": label, "due": due, "state": state, "text": text})
    return rows


# The agent's open reminders on the ticket, the panel's one query: compiled once per
# process and prepared on the server (helpdesk.postgres.Prepared), as the page's others.
_REMINDERS = Prepared(
    lambda ticket, agent: Reminder.objects.filter(
        ticket_id=ticket, agent_id=agent, sent_at__isnull=True
    ).order_by("remind_at")[:5],
    ticket=-7_090_909,
    agent=-7_101_010,
)


@register.inclusion_tag("tickets/workflow/_panel.html", takes_context=True)
def ticket_workflow(context: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    user = context["user"]
    policy_name = sla.policy_name(ticket.sla_policy_id) if ticket.sla_policy_id else None
    reminders = _REMINDERS.rows(ticket=ticket.pk, agent=user.pk)
    return {
        "ticket": ticket,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "targets": sla_targets(ticket),
        "policy_name": policy_name,
        "reminders": reminders,
    }


@register.inclusion_tag("tickets/workflow/_canned_picker.html")
def canned_picker(ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket}


@register.filter
def editable_by(canned: CannedReply, user: User) -> bool:
    return canned.editable_by(user)


@register.filter
def max_message_id(conversation: list[Message]) -> int:
    return max((m.pk for m in conversation), default=0)


@register.filter
def sla_badge(ticket: Ticket) -> dict[str, Any] | None:
    """The most urgent open target for an inbox row, or None."""
    targets = [t for t in sla_targets(ticket) if t["state"] in ("overdue", "soon", "due")]
    return min(targets, key=lambda t: t["due"]) if targets else None
