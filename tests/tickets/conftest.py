"""Fixtures for the ticket workflow tests."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def builtin_rules(db: None) -> None:
    """The rules the data migration ships, present even after a transactional test's flush."""
    from django.apps import apps

    from tickets import automation

    migration = importlib.import_module("tickets.migrations.0003_builtin_rules")
    migration.create_rules(apps, None)
    automation.rules_changed()


@pytest.fixture
def no_builtin_rules(db: None) -> None:
    """Only the rules a test makes itself are active."""
    from tickets import automation
    from tickets.models import AutomationRule

    AutomationRule.objects.filter(builtin__gt="").update(is_active=False)
    automation.rules_changed()
