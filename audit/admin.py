"""The Django admin's saves and deletes of setup rows, written to the audit log.

`AuditedAdmin` is mixed into the admin classes of rows no core service saves (teams,
users, organizations; a mailbox's teams): it reads the stored row before the save
(`save_form`) and the saved one after its many-to-many fields (`save_related`), in the
admin's transaction. Rows that a service saves (calendars, mailboxes, rules, SLA
policies) are recorded by that service.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from audit import services
from audit.models import AuditKind

_BEFORE = "_audit_before"
Snapshot = dict[str, Any] | None


class AuditedAdmin:
    audit_kind: AuditKind = AuditKind.SETTINGS
    # Many-to-many fields recorded with the row (their ids).
    audit_many: tuple[str, ...] = ()
    # False where a service records the row's own fields (a mailbox's: save_mailbox).
    audit_own_fields = True

    def audit_kind_for(self, before: Snapshot, after: Snapshot) -> AuditKind:
        return self.audit_kind

    def _own(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.audit_own_fields:
            return values
        return {name: values[name] for name in self.audit_many}

    def _snapshot(self, obj: Model) -> dict[str, Any]:
        return self._own(services.snapshot(obj, many=self.audit_many))

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # The database still holds the row as it was (the form's instance has the edits).
        before = services.stored_snapshot(form._meta.model, form.instance.pk, many=self.audit_many)
        setattr(request, _BEFORE, before and self._own(before))
        return super().save_form(request, form, change)  # type: ignore[misc]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        before = getattr(request, _BEFORE, None)
        # As stored: the form's values may differ in form only (2 and 2.00).
        stored = services.stored_snapshot(form._meta.model, form.instance.pk, many=self.audit_many)
        after = stored and self._own(stored)
        services.record_change(
            self.audit_kind_for(before, after), form.instance, before, after, actor=request.user
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        before = self._snapshot(obj)
        super().delete_model(request, obj)  # type: ignore[misc]
        services.record_change(
            self.audit_kind_for(before, None), obj, before, None, actor=request.user
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = [(obj, self._snapshot(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for obj, before in rows:
            services.record_change(
                self.audit_kind_for(before, None), obj, before, None, actor=request.user
            )
