"""Rules and SLA policies are cached in every process; whatever saves or deletes them
(the workflow pages, the Django admin's form, its list edit, its bulk delete) goes
through tickets/workflow/setup.py, which invalidates the cache. Before it, a rule or
policy deleted with the admin's bulk action (or a policy deleted from its admin page)
stayed cached and kept acting in every process."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Personas
from tickets.models import Priority
from tickets.workflow import automation, setup, sla
from tickets.workflow.models import AutomationRule, SlaPolicy

pytestmark = pytest.mark.django_db


def _rule(name: str) -> AutomationRule:
    return setup.save_rule(
        AutomationRule(
            name=name,
            trigger="created",
            conditions=[{"field": "subject", "op": "contains", "value": "refund"}],
            actions=[{"type": "add_tags", "value": ["billing"]}],
        )
    )


def _policy(name: str) -> SlaPolicy:
    return setup.save_policy(
        SlaPolicy(name=name, priority=Priority.URGENT, first_response_hours=1, resolution_hours=8)
    )


def _cached_rule_names() -> set[str]:
    return {rule.name for rule in automation.active_rules()}


def _cached_policy_names() -> set[str]:
    return {policy.name for policy in sla._policies.get()}


def _admin(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def test_a_rule_deleted_through_any_door_stops_acting_in_every_process(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        page, admin_page, bulk_a, bulk_b = (_rule(n) for n in ("page", "admin", "bulk-a", "bulk-b"))
    assert {"page", "admin", "bulk-a", "bulk-b"} <= _cached_rule_names()
    client = _admin(personas)

    # The rule builder's delete button.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/workflow/rules/{page.pk}/delete/")
    assert response.status_code == 302
    assert "page" not in _cached_rule_names()

    # The admin's own delete page.
    url = f"/admin/workflow/automationrule/{admin_page.pk}/delete/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert "admin" not in _cached_rule_names()

    # The admin's bulk action on a selection.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/workflow/automationrule/",
            {
                "action": "delete_selected",
                "_selected_action": [bulk_a.pk, bulk_b.pk],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not AutomationRule.objects.filter(pk__in=[bulk_a.pk, bulk_b.pk]).exists()
    assert not {"bulk-a", "bulk-b"} & _cached_rule_names()


def test_a_rule_edited_in_the_admin_list_is_reloaded(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rule = _rule("listed")
    assert "listed" in _cached_rule_names()
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(rule.pk),
        "form-0-position": "5",
        "_save": "Save",
    }
    rules = AutomationRule.objects.order_by("position", "id")
    for n, other in enumerate(rules.exclude(pk=rule.pk), start=1):
        data.update({f"form-{n}-id": str(other.pk), f"form-{n}-position": str(other.position)})
        if other.is_active:
            data[f"form-{n}-is_active"] = "on"
    data["form-TOTAL_FORMS"] = data["form-INITIAL_FORMS"] = str(rules.count())
    # Switched off from the list, without opening the rule.
    with django_capture_on_commit_callbacks(execute=True):
        response = _admin(personas).post("/admin/workflow/automationrule/", data)
    assert response.status_code == 302
    assert not AutomationRule.objects.get(pk=rule.pk).is_active
    assert "listed" not in _cached_rule_names()


def test_a_policy_deleted_through_any_door_stops_applying_in_every_process(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        page, admin_page, bulk = (_policy(n) for n in ("page", "admin", "bulk"))
    assert {"page", "admin", "bulk"} <= _cached_policy_names()
    client = _admin(personas)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/workflow/sla/{page.pk}/delete/").status_code == 302
    assert "page" not in _cached_policy_names()

    url = f"/admin/workflow/slapolicy/{admin_page.pk}/delete/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"post": "yes"}).status_code == 302
    assert "admin" not in _cached_policy_names()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/workflow/slapolicy/",
            {"action": "delete_selected", "_selected_action": [bulk.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert "bulk" not in _cached_policy_names()
