"""Custom ticket fields in rules: a condition `field.<key>` (is, is not, contains, more
than, less than, has, is empty, is set) and an action `set_field.<key>`. Their values are
read and checked by the one fields service (tickets.services.fields.coerce), so a rule
cannot store a value the ticket page, the API or an import would refuse; setting a field
goes through services.update_ticket like every other change.

A condition on a field that was archived or deleted since never matches, and its action
is refused into the rule log, as a deleted team's is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Ticket
from tickets.services import Actor, InvalidChange
from tickets.services.fields import coerce, is_empty

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tickets.workflow.automation.context import Context
    from tickets.workflow.automation.rules import CachedRule

CONDITION_PREFIX = "field."
ACTION_PREFIX = "set_field."
NO_VALUE_OPS = ("is_empty", "is_set")
_PRESENCE = NO_VALUE_OPS
OPS: dict[str, tuple[str, ...]] = {
    FieldType.TEXT: ("is", "is_not", "contains", "not_contains", *_PRESENCE),
    FieldType.NUMBER: ("is", "is_not", "more_than", "less_than", *_PRESENCE),
    FieldType.DATE: ("is", "is_not", "more_than", "less_than", *_PRESENCE),
    FieldType.CHOICE: ("is", "is_not", *_PRESENCE),
    FieldType.MULTICHOICE: ("has", "has_not", *_PRESENCE),
    FieldType.CHECKBOX: ("is",),
}


def definition_for(name: str, prefix: str) -> FieldDefinition | None:
    """The active ticket field a condition (`field.<key>`) or action (`set_field.<key>`)
    names, or None."""
    if not name.startswith(prefix):
        return None
    return services.definitions(AppliesTo.TICKET).get(name.removeprefix(prefix))


def condition_choices() -> list[tuple[str, str]]:
    return [
        (CONDITION_PREFIX + key, _("Field: %(label)s") % {"label": d.label})
        for key, d in services.definitions(AppliesTo.TICKET).items()
    ]


def action_choices() -> list[tuple[str, str]]:
    return [
        (ACTION_PREFIX + key, _("Set field: %(label)s") % {"label": d.label})
        for key, d in services.definitions(AppliesTo.TICKET).items()
    ]


def parse_value(definition: FieldDefinition, op: str, value: Any) -> Any:
    """The value a condition compares with (or an action sets), as the fields service
    stores it; ValidationError with its message when the field cannot hold it."""
    if op in NO_VALUE_OPS:
        return None
    if value in (None, "", []):
        raise ValidationError(_("“%(label)s” needs a value.") % {"label": definition.label})
    try:
        if definition.type == FieldType.MULTICHOICE:
            return coerce(definition, [value] if isinstance(value, str) else value)
        return coerce(definition, value)
    except ValueError as wrong:
        raise ValidationError(
            _("“%(label)s”: %(problem)s") % {"label": definition.label, "problem": wrong}
        ) from None


def condition_errors(definition: FieldDefinition | None, cond: dict[str, Any]) -> list[str]:
    """What is wrong with one field condition (validate_rule's words, without the number)."""
    if definition is None:
        return [_("choose what to check (that field is no longer in use).")]
    op = cond.get("op", "")
    if op not in OPS[definition.type]:
        return [_("“%(label)s” cannot use that comparison.") % {"label": definition.label}]
    try:
        parse_value(definition, op, cond.get("value"))
    except ValidationError as wrong:
        return list(wrong.messages)
    return []


def _wanted(definition: FieldDefinition, op: str, value: Any) -> Any:
    wanted = parse_value(definition, op, value)
    if definition.type == FieldType.MULTICHOICE and isinstance(wanted, list):
        return wanted[0] if wanted else None
    return wanted


def compile_condition(cond: dict[str, Any]) -> Any:
    """The predicate of a field condition on a Context; never true for a field gone."""
    definition = definition_for(cond.get("field", ""), CONDITION_PREFIX)
    if definition is None or condition_errors(definition, cond):
        return lambda ctx: False
    key, op = definition.key, cond["op"]
    wanted = _wanted(definition, op, cond.get("value"))

    def current(ctx: Context) -> Any:
        return ctx.ticket.fields.get(key)

    if op == "is_empty":
        return lambda ctx: is_empty(current(ctx))
    if op == "is_set":
        return lambda ctx: not is_empty(current(ctx))
    if definition.type == FieldType.CHECKBOX:
        return lambda ctx: bool(current(ctx)) == wanted
    if op in ("is", "is_not"):
        hit = op == "is"
        return lambda ctx: (current(ctx) == wanted) == hit
    if op in ("contains", "not_contains"):
        needle, hit = str(wanted).lower(), op == "contains"
        return lambda ctx: (needle in str(current(ctx) or "").lower()) == hit
    if op in ("has", "has_not"):
        hit = op == "has"
        return lambda ctx: (wanted in (current(ctx) or [])) == hit
    bigger = op == "more_than"

    def compare(ctx: Context) -> bool:
        value = current(ctx)
        if is_empty(value):
            return False
        return value > wanted if bigger else value < wanted

    return compare


def condition_q(cond: dict[str, Any], now: datetime) -> Q:
    """The same condition in SQL, for scheduled rules (served by the GIN index on
    `fields` for the equalities)."""
    definition = definition_for(cond.get("field", ""), CONDITION_PREFIX)
    if definition is None or condition_errors(definition, cond):
        return Q(pk__in=[])
    key, op = definition.key, cond["op"]
    wanted = _wanted(definition, op, cond.get("value"))
    present = Q(fields__has_key=key)
    if op in NO_VALUE_OPS:
        return ~present if op == "is_empty" else present
    if definition.type == FieldType.CHECKBOX:
        ticked = Q(fields__contains={key: True})
        return ticked if wanted else ~ticked
    if op in ("is", "is_not"):
        q = Q(fields__contains={key: wanted})
        return q if op == "is" else ~q
    if op in ("has", "has_not"):
        q = Q(fields__contains={key: [wanted]})
        return q if op == "has" else ~q
    if op in ("contains", "not_contains"):
        q = Q(**{f"fields__{key}__icontains": str(wanted)})
        return q if op == "contains" else present & ~q
    lookup = "gt" if op == "more_than" else "lt"
    return present & Q(**{f"fields__{key}__{lookup}": wanted})


def describe_condition(cond: dict[str, Any], op_labels: Mapping[str, StrOrPromise]) -> str:
    definition = definition_for(cond.get("field", ""), CONDITION_PREFIX)
    label = definition.label if definition else cond.get("field", "").removeprefix("field.")
    value = "" if cond.get("op") in NO_VALUE_OPS else f" {cond.get('value')}"
    return _("Field %(label)s %(op)s%(value)s") % {
        "label": label,
        "op": op_labels.get(cond.get("op", ""), ""),
        "value": value,
    }


def action_errors(definition: FieldDefinition | None, action: dict[str, Any]) -> list[str]:
    if definition is None:
        return [_("choose what to do (that field is no longer in use).")]
    try:
        parse_value(definition, "is", action.get("value"))
    except ValidationError as wrong:
        return list(wrong.messages)
    return []


def apply_set_field(rule: CachedRule, ticket: Ticket, action: dict[str, Any], actor: Actor) -> None:
    definition = definition_for(action["type"], ACTION_PREFIX)
    if definition is None:
        raise InvalidChange(f"No active ticket field for {action['type']!r}.", field="fields")
    services.update_ticket(ticket, actor=actor, fields={definition.key: action.get("value")})
