"""API tokens of the settings area: several per user, named, read-only or read-write.

Only a hash of the key is stored; the key is shown once, when made. DRF's own authtoken
(one token per user, no scope) keeps working beside these (console.tokens).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class TokenScope(models.TextChoices):
    READ = "read", gettext_lazy("Read only")
    WRITE = "write", gettext_lazy("Read and write")


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    # The first characters of the key, to tell tokens apart in lists and in the audit log.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Branding(models.Model):
    """The one row of the product's look: name, logo, accent colour, help-center title
    (console.branding keeps it per process and validates what is saved)."""

    product_name = models.CharField(max_length=60, default="Tandem")
    help_center_title = models.CharField(max_length=100, default="Help center")
    # "#rrggbb", dark enough for white text (console.branding.contrast_with_white).
    accent = models.CharField(max_length=7, blank=True)
    logo = models.FileField(upload_to="branding/", blank=True)
    # The logo's type as its first bytes showed it: the Content-Type it is served with.
    logo_type = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "branding"

    def __str__(self) -> str:
        return "Branding"
