"""The sign-in policy an admin sets in the product: which staff roles must use two-factor
sign-in. One row (`SignInPolicy.current()`); TOTP devices and recovery codes are
django-otp's own tables."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class SignInPolicy(models.Model):
    """The one row of sign-in settings (pk 1)."""

    two_factor_roles = ArrayField(
        models.CharField(max_length=16),
        default=list,
        blank=True,
        help_text="Staff roles that must turn on two-factor sign-in.",
    )

    class Meta:
        verbose_name = "sign-in policy"

    def __str__(self) -> str:
        return "Sign-in policy"

    @classmethod
    def current(cls) -> SignInPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy
