from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from audit.admin import AuditedAdmin, Snapshot
from audit.models import AuditKind
from tickets import calendars, services
from tickets.models import (
    BusinessCalendar,
    Customer,
    FieldDefinition,
    Organization,
    PastEmail,
    Team,
    User,
)


class PastEmailInline(admin.TabularInline):
    """Addresses the user had: kept so ticket history still names them (read-only)."""

    model = PastEmail
    fields = readonly_fields = ("email", "changed_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


# A change to these is a change of what the user may do: a "role" row in the audit log.
ACCESS_FIELDS = ("role", "is_active", "is_staff", "is_superuser")


@admin.register(User)
class TandemUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    inlines = [PastEmailInline]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Help desk",
            {
                "fields": (
                    "role",
                    "is_away",
                    "notify_on_assignment",
                    "notify_on_customer_reply",
                    "notify_on_unassigned_reply",
                )
            },
        ),
    )

    def audit_kind_for(self, before: Snapshot, after: Snapshot) -> AuditKind:
        if before and after and any(before.get(f) != after.get(f) for f in ACCESS_FIELDS):
            return AuditKind.ROLE
        return AuditKind.SETTINGS


@admin.register(Team)
class TeamAdmin(AuditedAdmin, admin.ModelAdmin):
    audit_kind = AuditKind.TEAMS
    audit_many = ("members",)
    filter_horizontal = ("members",)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("name", "shares_tickets")
    # Custom field values are checked by services.set_fields (the API), not a JSON box.
    readonly_fields = ("fields",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "organization")
    search_fields = ("email", "name")
    raw_id_fields = ("user",)
    readonly_fields = ("fields",)


class FieldDefinitionForm(forms.ModelForm):
    class Meta:
        model = FieldDefinition
        fields = list(FieldDefinition.ATTRIBUTES)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            errors = services.definition_errors(
                key=data["key"],
                type=data["type"],
                applies_to=data["applies_to"],
                choices=data.get("choices") or [],
                required_to_solve=data.get("required_to_solve", False),
                pk=self.instance.pk,
            )
            for name, text in errors.items():
                self.add_error(name, text)
        return data


@admin.register(FieldDefinition)
class FieldDefinitionAdmin(AuditedAdmin, admin.ModelAdmin):
    """Custom fields (also GET/POST /api/v1/fields/); values are checked on every change."""

    form = FieldDefinitionForm
    list_display = ("label", "key", "applies_to", "type", "required_to_solve", "active")
    list_filter = ("applies_to", "active")
    ordering = ("applies_to", "position", "key")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "is_default")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if calendars.save_calendar(obj):
            self.message_user(
                request,
                "Business-time figures of the tickets this calendar measures are being "
                "recomputed in the background.",
            )
