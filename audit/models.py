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
from django.utils.translation import gettext_lazy

# The least a row is kept; the database trigger holds the same figure.
MIN_RETENTION_DAYS = 365


class AuditKind(models.TextChoices):
    SIGN_IN = "sign_in", gettext_lazy("Sign-in")
    SIGN_IN_FAILED = "sign_in_failed", gettext_lazy("Failed sign-in")
    SIGN_OUT = "sign_out", gettext_lazy("Sign-out")
    # Written by the two-factor pages: turned on or off, recovery codes renewed.
    TWO_FACTOR = "two_factor", gettext_lazy("Two-factor")
    ROLE = "role", gettext_lazy("Role")
    TEAMS = "teams", gettext_lazy("Teams")
    SETTINGS = "settings", gettext_lazy("Settings")
    TOKEN_CREATED = "token_created", gettext_lazy("API token created")
    TOKEN_REVOKED = "token_revoked", gettext_lazy("API token revoked")
    RULE = "rule", gettext_lazy("Automation rule")
    SLA = "sla", gettext_lazy("SLA policy")
    EXPORT = "export", gettext_lazy("Export")
    ERASURE = "erasure", gettext_lazy("Erasure")
    RETENTION = "retention", gettext_lazy("Retention")
    # Written by tickets.services.merge_customers.
    CUSTOMER_MERGE = "customer_merge", gettext_lazy("Customers merged")
    # Written by webhooks/services.py and webhooks/notices.py: endpoints added, changed,
    # their secret rotated, deleted, or turned off for failing.
    WEBHOOK = "webhook", gettext_lazy("Webhook")


# What happened, as the audit page shows it: the stored `action` stays an English key
# (the CSV export and the API read it), an unknown one is shown as it is.
ACTION_LABELS = {
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "deleted": gettext_lazy("deleted"),
    "changed": gettext_lazy("changed"),
    "succeeded": gettext_lazy("succeeded"),
    "failed": gettext_lazy("failed"),
    "enabled": gettext_lazy("enabled"),
    "disabled": gettext_lazy("disabled"),
    "reset by an admin": gettext_lazy("reset by an admin"),
    "recovery codes renewed": gettext_lazy("recovery codes renewed"),
    "recovery code used": gettext_lazy("recovery code used"),
    "invited": gettext_lazy("invited"),
    "accepted": gettext_lazy("accepted"),
    "invitation withdrawn": gettext_lazy("invitation withdrawn"),
    "revoked": gettext_lazy("revoked"),
    "forged": gettext_lazy("forged"),
    "branding": gettext_lazy("branding"),
    "created by single sign-on": gettext_lazy("created by single sign-on"),
    "updated by single sign-on": gettext_lazy("updated by single sign-on"),
    "ticket content deleted": gettext_lazy("ticket content deleted"),
    "customer erased": gettext_lazy("customer erased"),
    "customer exported": gettext_lazy("customer exported"),
    "merged": gettext_lazy("merged"),
    "secret rotated": gettext_lazy("secret rotated"),
}


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

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))
