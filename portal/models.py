"""Portal sign-in links and request forms. (The request-form visits the portal records are the help
center's deflection figures: kb.models.RequestFormVisit.)"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from tickets.models import Customer, Kind, Mailbox, Team


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


class RequestForm(models.Model):
    """A form of the portal ("Billing question", "Bug report"): the ticket fields it asks
    for and where its tickets go (kind, team, mailbox). Saved by portal.request_forms."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(
        max_length=300, blank=True, help_text="Shown to customers under the form's name."
    )
    # Keys of ticket fields (FieldDefinition.key), in the order the form asks for them.
    fields = ArrayField(models.SlugField(max_length=50), default=list, blank=True)
    # Of those, the keys a customer must fill in.
    required = ArrayField(models.SlugField(max_length=50), default=list, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SUPPORT)
    # Routing targets are settings, not data people own: a deleted team or mailbox leaves
    # the form to the default mailbox and no team.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mailbox = models.ForeignKey(
        Mailbox,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: the default mailbox.",
    )
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
