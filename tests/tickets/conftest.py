"""Fixtures for the ticket workflow tests."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def builtin_rules(db: None) -> None:
    """The rules the data migration ships, present even after a transactional test's flush."""
    from django.apps import apps

    from tickets.workflow import automation

    class Today:
        """The migration's `apps`, answering with today's models (the rules live in the
        workflow app now; the migration still names their first home)."""

        def get_model(self, app_label: str, name: str) -> type:
            return apps.get_model("workflow", name)

    migration = importlib.import_module("tickets.migrations.0003_builtin_rules")
    migration.create_rules(Today(), None)
    automation.rules_changed()


@pytest.fixture
def no_builtin_rules(db: None) -> None:
    """Only the rules a test makes itself are active."""
    from tickets.workflow import automation
    from tickets.workflow.models import AutomationRule

    AutomationRule.objects.filter(builtin__gt="").update(is_active=False)
    automation.rules_changed()
