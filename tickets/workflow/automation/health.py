"""Rules run when an account's health falls (trigger "health_fell"): the service app
computes the score (service/health.py) and calls `health_fell` after commit; each active
health rule whose threshold the score crossed downwards acts once, on the account's
latest ticket, with the fall in `follow_ups.current_fall()` for its actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tickets.models import Customer, Organization, Ticket
from tickets.workflow import follow_ups
from tickets.workflow.automation.actions import apply_or_log
from tickets.workflow.automation.rules import active_rules
from tickets.workflow.models import Trigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """A customer or an organization, the two kinds of account that have a health."""

    kind: str  # "customer" or "organization"
    pk: int


def _threshold(conditions: tuple[dict, ...]) -> float | None:
    for condition in conditions:
        if condition.get("field") == "health":
            try:
                return float(condition["value"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _fall(
    account: Account, before: int | None, score: int, threshold: float, reasons: list[str]
) -> follow_ups.Fall | None:
    if account.kind == "customer":
        customer = (
            Customer.objects.select_related("organization__success_contact")
            .filter(pk=account.pk)
            .first()
        )
        if customer is None:
            return None
        org = customer.organization
        return follow_ups.Fall(
            [customer.pk],
            customer.display_name,
            before,
            score,
            threshold,
            org.success_contact if org else None,
            reasons,
        )
    organization = (
        Organization.objects.select_related("success_contact").filter(pk=account.pk).first()
    )
    if organization is None:
        return None
    members = list(organization.customers.values_list("pk", flat=True))
    return follow_ups.Fall(
        members, organization.name, before, score, threshold, organization.success_contact, reasons
    )


def health_fell(
    account: Account, before: int | None, score: int, reasons: list[str] | None = None
) -> list[int]:
    """Run the health rules whose threshold `score` fell below (an account never scored
    before counts as healthy). Returns the ids of the rules that acted."""
    rules = []
    for rule in active_rules():
        if rule.trigger != Trigger.HEALTH_FELL:
            continue
        threshold = _threshold(rule.conditions)
        if threshold is not None and score < threshold <= (100 if before is None else before):
            rules.append((rule, threshold))
    if not rules:
        return []
    column = "customer_id" if account.kind == "customer" else "customer__organization_id"
    ticket = Ticket.objects.filter(**{column: account.pk}).order_by("-created_at", "-pk").first()
    if ticket is None:
        log.info("health of %s %s fell with no ticket to act on", account.kind, account.pk)
        return []
    acted = []
    for rule, threshold in rules:
        fall = _fall(account, before, score, threshold, reasons or [])
        if fall is None:
            break
        with follow_ups.acting_on(fall):
            for action in rule.actions:
                apply_or_log(rule, ticket, action)
        acted.append(rule.id)
    return acted
