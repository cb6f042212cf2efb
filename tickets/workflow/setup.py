"""Saving and deleting the workflow's setup rows that every process caches: automation
rules and SLA policies.

Each process holds the active rules (compiled) and policies in memory, checked against a
version key in Redis on each read (helpdesk/local_cache.py). Whatever changes those rows,
the rule builder, the SLA page, the Django admin (a form, a list edit, a bulk delete) or
code, goes through these functions, which bump the version after commit so that every
process reloads; nothing else writes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from tickets.workflow.automation import rules_changed
from tickets.workflow.models import AutomationRule, SlaPolicy
from tickets.workflow.sla import policies_changed


@transaction.atomic
def save_rule(rule: AutomationRule) -> AutomationRule:
    rule.updated_at = timezone.now()
    rule.save()
    transaction.on_commit(rules_changed)
    return rule


@transaction.atomic
def delete_rules(rules: Iterable[AutomationRule]) -> int:
    """Delete rules (one, or an admin's selection); returns how many."""
    ids = [rule.pk for rule in rules]
    deleted, _ = AutomationRule.objects.filter(pk__in=ids).delete()
    transaction.on_commit(rules_changed)
    return len(ids) if deleted else 0


@transaction.atomic
def save_policy(policy: SlaPolicy) -> SlaPolicy:
    policy.save()
    transaction.on_commit(policies_changed)
    return policy


@transaction.atomic
def delete_policies(policies: Iterable[SlaPolicy]) -> int:
    """Delete SLA policies (one, or an admin's selection); returns how many."""
    ids = [policy.pk for policy in policies]
    deleted, _ = SlaPolicy.objects.filter(pk__in=ids).delete()
    transaction.on_commit(policies_changed)
    return len(ids) if deleted else 0
