"""What a rule can do, as a registry (ACTIONS): each action with its label, whether it
needs a value, and the service call that does it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets import hooks, notify, services
from tickets.models import (
    PRIORITY_RANK,
    Direction,
    Priority,
    Status,
    Team,
    Ticket,
    User,
)
from tickets.services import Actor, InvalidChange, courtesy
from tickets.workflow import assignment, collab, follow_ups
from tickets.workflow.automation import fields
from tickets.workflow.automation.context import as_list
from tickets.workflow.models import CannedReply

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tickets.workflow.automation.rules import CachedRule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionType:
    """One thing a rule can do: its label in the rule builder, whether it needs a value,
    and the service call that does it to a ticket."""

    label: StrOrPromise
    apply: Callable[[CachedRule, Ticket, dict[str, Any], Actor], None]
    needs_value: bool = True


def _set_team(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    value = action.get("value")
    team = None if value is None else Team.objects.filter(pk=value).first()
    services.update_ticket(ticket, actor=actor, team=team)


def _set_assignee(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    value = action.get("value")
    agent = None if value is None else User.objects.agents().filter(pk=value).first()
    if agent is not None:
        services.update_ticket(ticket, actor=actor, assignee=agent)


def _round_robin(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    if ticket.team_id is not None:
        assignment.assign_round_robin(ticket, actor=actor)


def _set(field: str) -> Callable[[CachedRule, Ticket, dict[str, Any], Actor], None]:
    def apply(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
        if field == "status" and ticket.status == Status.CLOSED:
            return
        services.update_ticket(ticket, actor=actor, **{field: action.get("value")})

    return apply


def _raise_priority(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    value = action.get("value", "")
    if PRIORITY_RANK[Priority(ticket.priority)] < PRIORITY_RANK[Priority(value)]:
        services.update_ticket(ticket, actor=actor, priority=value)


def _add_tags(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    tags = [*ticket.tags, *as_list(action.get("value"))]
    services.update_ticket(ticket, actor=actor, tags=tags)


def _remove_tags(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    drop = {str(t).strip().lower() for t in as_list(action.get("value"))}
    services.update_ticket(ticket, actor=actor, tags=[t for t in ticket.tags if t not in drop])


def _add_note(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    body = str(action.get("value"))
    services.add_message(ticket, direction=Direction.NOTE, body_text=body, actor=actor)


def _send_reply(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    text = rule_text(action["type"], action.get("value"))
    collab.send_automatic_reply(ticket, text, actor=actor)


def _notify(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    users = notify.recipients(ticket, action.get("value"))
    notify.notify_about_ticket(
        ticket, users, lambda: gettext("Rule “%(name)s” matched") % {"name": rule.name}, actor=actor
    )


def _open_follow_up(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    days = int(action.get("days", 30))
    follow_ups.open_success_follow_up(ticket, actor=actor, days=days)


def _apply_routing(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    hooks.apply_routing(ticket, float(action.get("value") or 0.9), actor)


def _mark_newsletter(
    rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor
) -> None:
    courtesy.mark_newsletter(ticket, actor=actor)


def _health_follow_up(
    rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor
) -> None:
    fall = follow_ups.current_fall()
    if fall is not None:
        follow_ups.open_health_follow_up(fall, ticket, actor=actor)


def _tell_owner(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    fall = follow_ups.current_fall()
    if fall is not None and fall.owner is not None:
        notify.notify_agents([fall.owner], ticket.pk, lambda: fall.headline, fall.text)


# The actions of a "health fell" rule (automation/health.py runs them on the account's
# latest ticket, with the fall in follow_ups.current_fall()).
HEALTH_ACTIONS = ("health_follow_up", "tell_account_owner")

ACTIONS: dict[str, ActionType] = {
    "set_team": ActionType(_("Set team"), _set_team),
    "set_assignee": ActionType(_("Assign to agent"), _set_assignee),
    "assign_round_robin": ActionType(
        _("Assign round robin within the ticket's team"), _round_robin, needs_value=False
    ),
    "set_priority": ActionType(_("Set priority"), _set("priority")),
    "raise_priority": ActionType(_("Raise priority to at least"), _raise_priority),
    "set_kind": ActionType(_("Set kind"), _set("kind")),
    "set_status": ActionType(_("Set status"), _set("status")),
    "add_tags": ActionType(_("Add tags"), _add_tags),
    "remove_tags": ActionType(_("Remove tags"), _remove_tags),
    "add_note": ActionType(_("Add internal note"), _add_note),
    "send_reply": ActionType(_("Send reply to customer"), _send_reply),
    "send_canned_reply": ActionType(_("Send canned reply"), _send_reply),
    "notify": ActionType(_("Notify by email (assignee, team, or an agent)"), _notify),
    "apply_routing": ActionType(
        _("Apply the learned routing (team, kind, priority) at or above confidence (0-1)"),
        _apply_routing,
    ),
    "mark_newsletter": ActionType(
        _("Mark as a newsletter (tagged, kept out of Unassigned)"),
        _mark_newsletter,
        needs_value=False,
    ),
    "open_follow_up": ActionType(
        _("Open a service follow-up for the success contact"), _open_follow_up, needs_value=False
    ),
    "health_follow_up": ActionType(
        _("Open a service follow-up for the account owner (health rules)"),
        _health_follow_up,
        needs_value=False,
    ),
    "tell_account_owner": ActionType(
        _("Tell the account owner by email (health rules)"), _tell_owner, needs_value=False
    ),
}
ACTION_LABELS = {name: action.label for name, action in ACTIONS.items()}


def apply_action(rule: CachedRule, ticket: Ticket, action: dict[str, Any]) -> None:
    actor = Actor.rule(rule.id, rule.name)
    if action["type"].startswith(fields.ACTION_PREFIX):
        fields.apply_set_field(rule, ticket, action, actor)
    else:
        ACTIONS[action["type"]].apply(rule, ticket, action, actor)


def action_label(kind: str) -> str:
    """How the rule list names an action (a field's by its label)."""
    definition = fields.definition_for(kind, fields.ACTION_PREFIX)
    if definition is not None:
        return gettext("Set field %(label)s") % {"label": definition.label}
    return str(ACTION_LABELS.get(kind, "?"))


def apply_or_log(rule: CachedRule, ticket: Ticket, action: dict[str, Any]) -> None:
    """`apply_action`; a broken action (a deleted team) or one the ticket rules refuse (an
    assignee who cannot open the ticket, a tag too many) goes to the log and must not
    stop the other actions and rules, or the change that triggered them."""
    try:
        apply_action(rule, ticket, action)
    except InvalidChange as refusal:
        log.warning("rule %s action %s refused on #%s: %s", rule.id, action, ticket.pk, refusal)
    except Exception:
        log.exception("rule %s action %s failed on #%s", rule.id, action, ticket.pk)


def rule_text(kind: str, value: Any) -> str:
    if kind == "send_canned_reply":
        canned = CannedReply.objects.filter(pk=value).first()
        return canned.body if canned else ""
    return str(value or "")
