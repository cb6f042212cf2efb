"""Django admin for the workflow setup objects (the rule builder has its own page).

Saves and deletes, one or a selection, go through the same service as the pages
(tickets/workflow/setup.py), so every process reloads its cached rules and policies.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tickets.workflow import automation, setup
from tickets.workflow.models import AssignmentPolicy, AutomationRule, CannedReply, SlaPolicy


class AutomationRuleAdminForm(forms.ModelForm):
    class Meta:
        model = AutomationRule
        fields = ["name", "trigger", "match", "conditions", "actions", "is_active", "position"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = automation.validate_rule(
            data.get("trigger", ""), data.get("conditions", []), data.get("actions", [])
        )
        if problems:
            raise forms.ValidationError(problems)
        return data


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin):
    form = AutomationRuleAdminForm
    list_display = ("name", "trigger", "is_active", "position", "builtin")
    list_editable = ("is_active", "position")
    ordering = ("position", "id")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        setup.save_rule(obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        setup.delete_rules([obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AutomationRule]) -> None:
        setup.delete_rules(queryset)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "priority",
        "mailbox",
        "organization",
        "kind",
        "first_response_hours",
        "resolution_hours",
        "is_active",
    )
    list_filter = ("priority", "is_active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        setup.save_policy(obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        setup.delete_policies([obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SlaPolicy]) -> None:
        setup.delete_policies(queryset)


@admin.register(AssignmentPolicy)
class AssignmentPolicyAdmin(admin.ModelAdmin):
    list_display = ("team", "enabled", "max_open_per_agent", "last_assignee")
    readonly_fields = ("last_assignee",)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "is_macro")
    search_fields = ("title", "body")
    raw_id_fields = ("owner",)
