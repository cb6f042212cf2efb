"""The audit log's one table: append-only, in the ORM and in the database.

A row is written once (`AuditEntry.objects.create` through `audit.services.record`) and
never changed: `save()` on a stored row, `delete()` and the queryset's `update()` and
`delete()` raise, and a trigger (migration 0001) refuses an UPDATE (except the actor
becoming NULL when a user row is deleted) and a DELETE of a row younger than a year. Only
the retention purge (`audit.services.purge_expired`) removes rows, the old ones.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

# The least a row is kept; the database trigger holds the same figure.
MIN_RETENTION_DAYS = 365


class AuditKind(models.TextChoices):
    SIGN_IN = "sign_in", "Sign-in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    SIGN_OUT = "sign_out", "Sign-out"
    # Written by the two-factor pages: turned on or off, recovery codes renewed.
    TWO_FACTOR = "two_factor", "Two-factor"
    ROLE = "role", "Role"
    TEAMS = "teams", "Teams"
    SETTINGS = "settings", "Settings"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    RULE = "rule", "Automation rule"
    SLA = "sla", "SLA policy"
    EXPORT = "export", "Export"
    ERASURE = "erasure", "Erasure"
    RETENTION = "retention", "Retention"
    # Written by tickets.services.merge_customers.
    CUSTOMER_MERGE = "customer_merge", "Customers merged"
    # Written by webhooks/services.py and webhooks/notices.py: endpoints added, changed,
    # their secret rotated, deleted, or turned off for failing.
    WEBHOOK = "webhook", "Webhook"


class AppendOnly(Exception):
    """An attempt to change or delete a stored audit row."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are deleted only by the retention purge")


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32, choices=AuditKind.choices)
    # created, updated, deleted, succeeded...: what happened to the target.
    action = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who it was when the row was written (a username, "system", a command): the actor's
    # row may change or go.
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # What was changed: "tickets.mailbox", its id, and a name people recognise. People
    # under privacy law (customers) are named by id only, so that erasing one leaves no
    # trace of them here.
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # The browse page and the CSV export: newest first, filtered by kind.
            models.Index(fields=["kind", "-at", "-id"], name="audit_kind_at"),
            # The same filtered by actor.
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor_at"),
            # The unfiltered page and the retention purge (rows older than a cut-off).
            models.Index(fields=["-at", "-id"], name="audit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit entries are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are deleted only by the retention purge")
