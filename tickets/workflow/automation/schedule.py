"""Scheduled rules: one set-based query per rule, acting once per ticket until it changes
again (RuleApplication)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tickets.models import (
    Ticket,
)
from tickets.workflow.automation.actions import apply_or_log
from tickets.workflow.automation.conditions import rule_queryset
from tickets.workflow.automation.context import Context, TicketFacts
from tickets.workflow.automation.rules import CachedRule, active_rules
from tickets.workflow.models import RuleApplication, Trigger

SCHEDULED_BATCH = 500


def run_scheduled_rules(*, now: datetime | None = None) -> int:
    """Apply every scheduled rule to the open tickets it selects; returns actions taken."""
    now = now or timezone.now()
    applied = 0
    for rule in active_rules():
        if rule.trigger != Trigger.SCHEDULED:
            continue
        already = RuleApplication.objects.filter(
            rule_id=rule.id, ticket=OuterRef("pk"), applied_at__gte=OuterRef("updated_at")
        )
        ticket_ids = list(
            rule_queryset(rule, now)
            .filter(~Exists(already))
            .order_by("updated_at")
            .values_list("pk", flat=True)[:SCHEDULED_BATCH]
        )
        for ticket_id in ticket_ids:
            applied += apply_scheduled_rule(rule, ticket_id, now)
    return applied


def apply_scheduled_rule(rule: CachedRule, ticket_id: int, now: datetime) -> int:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer", "mailbox")
            .filter(pk=ticket_id)
            .first()
        )
        # Re-check under the lock: the ticket may have changed since the set query.
        if ticket is None or not rule.matches(
            Context(TicketFacts.of(ticket), Trigger.SCHEDULED, now)
        ):
            return 0
        for action in rule.actions:
            apply_or_log(rule, ticket, action)
        RuleApplication.objects.update_or_create(
            rule_id=rule.id, ticket_id=ticket_id, defaults={"applied_at": timezone.now()}
        )
    return 1
