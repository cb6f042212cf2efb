"""Saving and deleting the workflow's setup rows that every process caches: automation
rules and SLA policies.

Each process holds the active rules (compiled) and policies in memory, checked against a
version key in Redis on each read (helpdesk/local_cache.py). Whatever changes those rows,
the rule builder, the SLA page, the Django admin (a form, a list edit, a bulk delete) or
code, goes through these functions, which bump the version after commit so that every
process reloads; nothing else writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Model
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


def delete_rules(rules: Iterable[AutomationRule]) -> int:
    """Delete rules (one, or an admin's selection); returns how many."""
    return _delete(AutomationRule, rules, rules_changed)


@transaction.atomic
def save_policy(policy: SlaPolicy) -> SlaPolicy:
    policy.save()
    transaction.on_commit(policies_changed)
    return policy


def delete_policies(policies: Iterable[SlaPolicy]) -> int:
    """Delete SLA policies (one, or an admin's selection); returns how many."""
    return _delete(SlaPolicy, policies, policies_changed)


@transaction.atomic
def _delete(model: type[Model], rows: Iterable[Model], changed: Callable[[], None]) -> int:
    ids = [row.pk for row in rows]
    deleted, _ = model.objects.filter(pk__in=ids).delete()
    transaction.on_commit(changed)
    return len(ids) if deleted else 0
