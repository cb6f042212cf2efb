"""The rules every change to a ticket obeys, whatever the door it comes through.

The ticket page, the API, bulk actions, automation rules, macros, mail and the services
of the other apps all change tickets through `apply_changes` (tickets/services/changes.py),
which asks `check_changes` first. A door may check earlier with the same functions (a
form field's error, an API field's error), but never with its own copy of a rule. A
refusal is an `InvalidChange` naming the field at fault; each door says it its own way
(a form error, a 400 or 409, a count of skipped tickets, a line in the rule log).

History import (actor IMPORT) is exempt: it replays what happened in another help desk,
where a closed ticket may have been reopened, an agent may have left, and tickets may
carry more tags than ours allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, gettext_lazy

from tickets.models import ActorKind, Status, Team, Ticket, User

# The most tags a ticket carries. The API has accepted 30 since its first version, and
# the contract (specs/api.md) names no other limit; the web forms said 20.
MAX_TAGS = 30
TAG_MAX_LENGTH = 50


class InvalidChange(ValueError):
    """A change the rules refuse; `field` names the field at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StateConflict(InvalidChange):
    """A change the ticket's current state refuses (reopening a closed ticket), as opposed
    to a value that is wrong whatever the state: the API answers it with 409."""


class NotPermitted(InvalidChange, PermissionDenied):
    """A change the actor's role does not allow (a light agent's reply or field change).
    Being a PermissionDenied too, a door that lets it through answers 403 (Django and DRF
    both do); `field` is "role"."""


LIGHT_AGENT_REFUSAL = gettext_lazy(
    "Light agents write internal notes: they cannot reply to customers, open tickets or "
    "change a ticket's fields."
)


def check_actor(user: User | None) -> None:
    """NotPermitted if `user` may not reply to customers or change tickets: a light agent.
    Every reply, field change, new ticket and move of messages by a person asks this."""
    if user is not None and user.is_authenticated and user.is_light_agent:
        raise NotPermitted(str(LIGHT_AGENT_REFUSAL), field="role")


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: lower case, words joined by hyphens, each once, sorted."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = "-".join(str(tag).strip().lower().split())[:TAG_MAX_LENGTH]
        if cleaned:
            seen.setdefault(cleaned, None)
    return sorted(seen)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """The tags normalized, or InvalidChange if a ticket would carry more than MAX_TAGS."""
    cleaned = normalize_tags(tags)
    if len(cleaned) > MAX_TAGS:
        raise InvalidChange(
            gettext("A ticket can carry at most %(max)s tags; this would make %(count)s.")
            % {"max": MAX_TAGS, "count": len(cleaned)},
            field="tags",
        )
    return cleaned


def check_assignee(ticket: Ticket, agent: User) -> None:
    """An assignee is an active agent, manager or admin who may open the ticket (see
    User.objects.assignable, which the assignee menus list). A light agent never holds one."""
    if not (agent.is_active and agent.is_agent):
        raise InvalidChange(
            gettext("%(email)s is not an active agent.") % {"email": agent.email}, field="assignee"
        )
    if agent.is_light_agent:
        raise InvalidChange(
            gettext("%(email)s is a light agent: light agents do not hold tickets.")
            % {"email": agent.email},
            field="assignee",
        )
    if agent.sees_everything:
        return
    # Remembered on the instance, as Django's auth backend remembers permissions: a
    # caller that checks before `apply_changes` checks again does not ask twice.
    held: set[int] = agent.__dict__.setdefault("_mailboxes_held", set())
    if ticket.mailbox_id in held:
        return
    if not User.objects.assignable(ticket.mailbox_id).filter(pk=agent.pk).exists():
        raise InvalidChange(
            gettext("%(email)s does not work in this ticket's mailbox (%(mailbox)s).")
            % {"email": agent.email, "mailbox": ticket.mailbox.address},
            field="assignee",
        )
    held.add(ticket.mailbox_id)


def check_team(ticket: Ticket, team: Team) -> None:
    """A ticket's team is one that works the ticket's mailbox (Team.objects.working_in,
    which the team menus list): every member of the team may then open the ticket, so
    what is sent to "the team" (reply notices, rule notices) reaches only people who
    may read it."""
    if not Team.objects.working_in(ticket.mailbox_id).filter(pk=team.pk).exists():
        raise InvalidChange(
            gettext("Team %(team)s does not work in this ticket's mailbox (%(mailbox)s).")
            % {"team": team.name, "mailbox": ticket.mailbox.address},
            field="team",
        )


def check_status(ticket: Ticket, status: str) -> None:
    if ticket.status == Status.CLOSED and status != Status.CLOSED:
        raise StateConflict(
            gettext("A closed ticket cannot be reopened; a new message opens a follow-up."),
            field="status",
        )


def check_changes(
    ticket: Ticket, changes: dict[str, Any], actor_kind: str, actor_user: User | None = None
) -> dict[str, Any]:
    """`changes` as they may be applied to `ticket` (tags normalized), or InvalidChange for
    the first one the rules refuse. Only values that differ from the ticket's are checked:
    an imported ticket keeps what it came with until someone changes it. A light agent
    changes nothing (NotPermitted)."""
    if changes:
        check_actor(actor_user)
    checked = dict(changes)
    if "tags" in checked:
        tags = normalize_tags(checked["tags"])
        if actor_kind != ActorKind.IMPORT and tags != ticket.tags:
            tags = clean_tags(tags)
        checked["tags"] = tags
    if actor_kind == ActorKind.IMPORT:
        return checked
    if "status" in checked and checked["status"] != ticket.status:
        check_status(ticket, checked["status"])
    assignee = checked.get("assignee")
    if assignee is not None and assignee.pk != ticket.assignee_id:
        check_assignee(ticket, assignee)
    team = checked.get("team")
    if team is not None and team.pk != ticket.team_id:
        check_team(ticket, team)
    return checked


def clean_subject(subject: str) -> str:
    """A subject on one line: line breaks and other white space runs become one space (a
    CR/LF in a subject went into every mail header of the ticket, and each send failed)."""
    return " ".join((subject or "").split())[:998] or "(no subject)"
