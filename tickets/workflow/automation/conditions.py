"""The conditions a rule can check, as a registry (CONDITIONS): each with its label, its
operators, and the check in Python (a change) and in SQL (a schedule)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    OPEN_STATUSES,
    Ticket,
)
from tickets.services import courtesy
from tickets.workflow.automation import fields
from tickets.workflow.automation.context import (
    Context,
    TicketFacts,
    as_list,
    needle,
    recent_support_tickets,
)
from tickets.workflow.models import MatchMode

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tickets.workflow.automation.rules import CachedRule


Predicate = Callable[["Context"], bool]


def _never(ctx: Context) -> bool:
    return False


def compile_conditions(match: str, conditions: Iterable[dict[str, Any]]) -> Predicate:
    """One predicate for a rule's conditions; a condition that cannot be read never matches.

    Values are parsed here (numbers, lower-cased needles, sets of choices), so evaluating
    a rule on a change is a few comparisons per condition.
    """
    preds = tuple(_compile(c) for c in conditions)
    if not preds:
        return lambda ctx: True
    if len(preds) == 1:
        return preds[0]
    if match == MatchMode.ANY:
        return lambda ctx: any(p(ctx) for p in preds)
    return lambda ctx: all(p(ctx) for p in preds)


def _compile(cond: dict[str, Any]) -> Predicate:
    if cond["field"].startswith(fields.CONDITION_PREFIX):
        return fields.compile_condition(cond)  # type: ignore[no-any-return]
    return CONDITIONS[cond["field"]].compile(cond["op"], cond.get("value"), cond)


def _to_q(cond: dict[str, Any], now: datetime) -> Q:
    if cond["field"].startswith(fields.CONDITION_PREFIX):
        return fields.condition_q(cond, now)
    return CONDITIONS[cond["field"]].to_q(cond["op"], cond.get("value"), now)  # type: ignore[misc]


# compile(op, value, condition) -> predicate on a Context
Compiler = Callable[[str, Any, dict[str, Any]], Predicate]


@dataclass(frozen=True)
class ConditionType:
    """One condition field: its label, operators, and the check in Python and in SQL.

    Both checks sit together so the change-triggered path (Python) and the scheduled path
    (SQL) cannot disagree on what a condition means.
    """

    label: StrOrPromise
    ops: tuple[str, ...]
    value: str  # what the rule builder asks for: text, number, choice name, list
    compile: Compiler
    to_q: Callable[[str, Any, datetime], Q] | None = None


def _is(read: Callable[[TicketFacts], Any], lower: bool = False) -> Compiler:
    def build(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
        wanted = frozenset(str(v).lower() if lower else str(v) for v in as_list(value))
        hit = op == "is"
        return lambda ctx: (str(read(ctx.ticket)) in wanted) == hit

    return build


def _subject_contains(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    wanted, hit = needle(value), op == "contains"
    return lambda ctx: (wanted in ctx.ticket.subject_lower) == hit


def _body_contains(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    wanted, hit = needle(value), op == "contains"
    return lambda ctx: any(wanted in text for text in ctx.new_inbound_texts_lower) == hit


def _has_tag(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    tag, hit = needle(value), op == "has"
    return lambda ctx: (tag in ctx.ticket.tags) == hit


_YES = frozenset({"yes", "true", "1", "y"})


def _bulk_mail(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    hit = (op == "is") == (needle(value) in _YES)
    return lambda ctx: any(courtesy.bulk_mail_reason(h) for h in ctx.new_inbound_headers) == hit


def _hours_since_update(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    hours = float(value)

    def since(ctx: Context) -> float:
        return (ctx.now - ctx.ticket.updated_at).total_seconds() / 3600

    if op == "more_than":
        return lambda ctx: since(ctx) >= hours
    return lambda ctx: since(ctx) < hours


def _never_matches(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    return _never


def _sentiment_below(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    threshold = float(value)
    return lambda ctx: any(score < threshold for score in ctx.new_inbound_sentiments)


def _recent_support_at_least(op: str, value: Any, cond: dict[str, Any]) -> Predicate:
    least, days = int(value), int(cond.get("days", 30))
    return lambda ctx: recent_support_tickets(ctx, days) >= least


def _q_is(name: str) -> Callable[[str, Any, datetime], Q]:
    def build(op: str, value: Any, now: datetime) -> Q:
        q = Q(**{f"{name}__in": as_list(value)})
        return q if op == "is" else ~q

    return build


def _q_contains(name: str) -> Callable[[str, Any, datetime], Q]:
    def build(op: str, value: Any, now: datetime) -> Q:
        q = Q(**{f"{name}__icontains": str(value).strip()})
        return q if op == "contains" else ~q

    return build


def _q_tag(op: str, value: Any, now: datetime) -> Q:
    q = Q(tags__contains=[needle(value)])
    return q if op == "has" else ~q


def _q_hours(op: str, value: Any, now: datetime) -> Q:
    edge = now - timedelta(hours=float(value))
    return Q(updated_at__lte=edge) if op == "more_than" else Q(updated_at__gt=edge)


def _q_customer(op: str, value: Any, now: datetime) -> Q:
    q = Q(customer__email__in=[str(x).lower() for x in as_list(value)])
    return q if op == "is" else ~q


CONDITIONS: dict[str, ConditionType] = {
    "mailbox": ConditionType(
        _("Mailbox"), ("is", "is_not"), "mailbox", _is(lambda t: t.mailbox_id), _q_is("mailbox_id")
    ),
    "subject": ConditionType(
        _("Subject"),
        ("contains", "not_contains"),
        "text",
        _subject_contains,
        _q_contains("subject"),
    ),
    "body": ConditionType(
        _("New customer message"), ("contains", "not_contains"), "text", _body_contains
    ),
    "customer": ConditionType(
        _("Customer email"),
        ("is", "is_not"),
        "text",
        _is(lambda t: t.customer_email, lower=True),
        _q_customer,
    ),
    "organization": ConditionType(
        _("Organization"),
        ("is", "is_not"),
        "organization",
        _is(lambda t: t.organization_id),
        _q_is("customer__organization_id"),
    ),
    "tag": ConditionType(_("Tag"), ("has", "has_not"), "text", _has_tag, _q_tag),
    "priority": ConditionType(
        _("Priority"), ("is", "is_not"), "priority", _is(lambda t: t.priority), _q_is("priority")
    ),
    "kind": ConditionType(
        _("Kind"), ("is", "is_not"), "kind", _is(lambda t: t.kind), _q_is("kind")
    ),
    "status": ConditionType(
        _("Status"), ("is", "is_not"), "status", _is(lambda t: t.status), _q_is("status")
    ),
    "hours_since_update": ConditionType(
        _("Hours since last update"),
        ("more_than", "less_than"),
        "number",
        _hours_since_update,
        _q_hours,
    ),
    "sentiment": ConditionType(
        _("Tone of the new customer message (-1 angry .. 1 happy)"),
        ("below",),
        "number",
        _sentiment_below,
    ),
    "bulk_mail": ConditionType(
        _("New customer message sent in bulk (List-Unsubscribe, List-Id): yes or no"),
        ("is",),
        "text",
        _bulk_mail,
    ),
    # Only for the "health fell" trigger (rules.validate_rule): automation/health.py reads
    # its value as the threshold; a ticket's own rules never match it.
    "health": ConditionType(_("Account health (0 to 100)"), ("below",), "number", _never_matches),
    "recent_support_tickets": ConditionType(
        _("Support tickets from this customer in the last 30 days"),
        ("at_least",),
        "number",
        _recent_support_at_least,
    ),
}

OPERATOR_LABELS = {
    "is": _("is"),
    "is_not": _("is not"),
    "contains": _("contains"),
    "not_contains": _("does not contain"),
    "has": _("has"),
    "has_not": _("does not have"),
    "more_than": _("more than"),
    "less_than": _("less than"),
    "below": _("is below"),
    "at_least": _("is at least"),
    "is_empty": _("is empty"),
    "is_set": _("is set"),
}


def rule_queryset(rule: CachedRule, now: datetime) -> Any:
    """Open tickets a scheduled rule's conditions select, as one SQL query."""
    qs = Ticket.objects.filter(status__in=OPEN_STATUSES)
    parts = [_to_q(c, now) for c in rule.conditions]
    if not parts:
        return qs
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if rule.match == MatchMode.ANY else combined & part
    return qs.filter(combined)


def describe(items: Iterable[dict[str, Any]]) -> list[str]:
    """Conditions as readable lines for the rule list."""
    lines = []
    for c in items:
        if str(c.get("field", "")).startswith(fields.CONDITION_PREFIX):
            lines.append(fields.describe_condition(c, OPERATOR_LABELS))
            continue
        spec = CONDITIONS.get(c.get("field", ""))
        if spec:
            value = ", ".join(str(v) for v in as_list(c.get("value")))
            lines.append(f"{spec.label} {OPERATOR_LABELS.get(c.get('op', ''), '')} {value}")
    return lines
