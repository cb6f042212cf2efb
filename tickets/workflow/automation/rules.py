"""The active rules, compiled once and cached per process (the cache is invalidated by
tickets/workflow/setup.py, whatever saves or deletes a rule), and the validation of a
rule definition."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from helpdesk.local_cache import VersionedCache
from tickets.workflow.automation import fields
from tickets.workflow.automation.actions import ACTIONS, HEALTH_ACTIONS
from tickets.workflow.automation.conditions import (
    CONDITIONS,
    Predicate,
    _never,
    compile_conditions,
)
from tickets.workflow.models import AutomationRule, Trigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedRule:
    """An active rule with its conditions compiled once, when the rule list is (re)loaded."""

    id: int
    name: str
    trigger: str
    match: str
    conditions: tuple[dict[str, Any], ...]
    actions: tuple[dict[str, Any], ...]
    matches: Predicate = field(compare=False, repr=False)

    def fires_on(self, trigger: str) -> bool:
        if self.trigger == Trigger.CHANGED:
            return trigger in (Trigger.CREATED, Trigger.UPDATED)
        return self.trigger == trigger


def _cached_rule(r: AutomationRule) -> CachedRule:
    conditions, actions = tuple(r.conditions or ()), tuple(r.actions or ())
    try:
        matches = compile_conditions(r.match, conditions)
    except (KeyError, TypeError, ValueError):
        # Stored by hand past validate_rule (a raw admin edit, an old row): one broken rule
        # must not stop the others, so it never matches until it is fixed.
        log.exception("automation rule %s (%s) has unreadable conditions", r.id, r.name)
        matches = _never
    return CachedRule(r.id, r.name, r.trigger, r.match, conditions, actions, matches)


def _load_rules() -> list[CachedRule]:
    return [
        _cached_rule(r)
        for r in AutomationRule.objects.filter(is_active=True).order_by("position", "id")
    ]


_rules = VersionedCache("automation-rules", _load_rules)


def active_rules() -> list[CachedRule]:
    return _rules.get()


def rules_changed() -> None:
    """Call after any rule is saved or deleted: every process reloads its rule list."""
    _rules.bump()


def validate_rule(trigger: str, conditions: Any, actions: Any) -> list[str]:
    """Every problem with a rule definition, as sentences an admin can act on."""
    errors: list[str] = []
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        return [_("Conditions must be a list.")]
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return [_("Actions must be a list.")]
    for n, cond in enumerate(conditions, 1):
        if str(cond.get("field", "")).startswith(fields.CONDITION_PREFIX):
            definition = fields.definition_for(cond["field"], fields.CONDITION_PREFIX)
            errors += [
                _("Condition %(n)s: %(problem)s") % {"n": n, "problem": e}
                for e in fields.condition_errors(definition, cond)
            ]
            continue
        spec = CONDITIONS.get(cond.get("field", ""))
        if spec is None:
            errors.append(_("Condition %(n)s: choose what to check.") % {"n": n})
            continue
        if cond.get("op") not in spec.ops:
            errors.append(
                _("Condition %(n)s: “%(label)s” cannot use that comparison.")
                % {"n": n, "label": spec.label}
            )
        value = cond.get("value")
        if value in (None, "", []):
            errors.append(
                _("Condition %(n)s: “%(label)s” needs a value.") % {"n": n, "label": spec.label}
            )
        elif spec.value == "number":
            try:
                float(value)
            except (TypeError, ValueError):
                errors.append(
                    _("Condition %(n)s: “%(label)s” needs a number.")
                    % {"n": n, "label": spec.label}
                )
        if trigger == Trigger.SCHEDULED and spec.to_q is None:
            errors.append(
                _(
                    "Condition %(n)s: “%(label)s” only works when a ticket changes, "
                    "not on a schedule."
                )
                % {"n": n, "label": spec.label}
            )
    if not actions:
        errors.append(_("Add at least one action."))
    for n, action in enumerate(actions, 1):
        if str(action.get("type", "")).startswith(fields.ACTION_PREFIX):
            definition = fields.definition_for(action["type"], fields.ACTION_PREFIX)
            errors += [
                _("Action %(n)s: %(problem)s") % {"n": n, "problem": e}
                for e in fields.action_errors(definition, action)
            ]
        elif action.get("type") not in ACTIONS:
            errors.append(_("Action %(n)s: choose what to do.") % {"n": n})
        elif ACTIONS[action["type"]].needs_value and action.get("value") in (None, "", []):
            errors.append(
                _("Action %(n)s: “%(label)s” needs a value.")
                % {"n": n, "label": ACTIONS[action["type"]].label}
            )
    errors.extend(_health_errors(trigger, conditions, actions))
    if trigger == Trigger.SCHEDULED and not any(
        c.get("field") in ("hours_since_update", "status") for c in conditions
    ):
        errors.append(
            _(
                "A scheduled rule needs a status or “hours since last update” condition, "
                "or it would act on every open ticket."
            )
        )
    return errors


def _health_errors(
    trigger: str, conditions: list[dict[str, Any]], actions: list[dict[str, Any]]
) -> list[str]:
    """A "health fell" rule has one health condition and only the account's actions; the
    health condition and those actions mean nothing on a ticket's own rules."""
    health = [c for c in conditions if c.get("field") == "health"]
    account_actions = {a.get("type") for a in actions} & set(HEALTH_ACTIONS)
    if trigger != Trigger.HEALTH_FELL:
        errors = []
        if health:
            errors.append(_("“Account health” is only for rules run when health falls."))
        if account_actions:
            errors.append(
                _("The account owner's actions are only for rules run when health falls.")
            )
        return errors
    errors = []
    if len(health) != 1 or len(conditions) != 1:
        errors.append(_("A health rule has exactly one condition: “Account health is below N”."))
    elif not 0 < _number(health[0].get("value")) <= 100:
        errors.append(_("The health threshold is a number from 1 to 100."))
    if any(a.get("type") not in HEALTH_ACTIONS for a in actions):
        errors.append(
            _("A health rule can open a service follow-up or tell the account owner, nothing else.")
        )
    return errors


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
