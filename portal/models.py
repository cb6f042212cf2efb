"""Portal sign-in links. (The request-form visits the portal records are the help
center's deflection figures: kb.models.RequestFormVisit.)"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tickets.models import Customer


class SignInLink(models.Model):
    """A one-time sign-in link. Only a hash of the secret is stored, never the secret."""

    # Links are throwaway credentials, not data anyone owns: they go with the customer.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # portal.delete_old_sign_in_links: expired links, hourly.
            models.Index(fields=["expires_at"], name="portal_signin_expires"),
        ]

    def __str__(self) -> str:
        return f"sign-in link for {self.customer_id}"
