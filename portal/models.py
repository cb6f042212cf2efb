"""Portal sign-in links and request-form visits (the deflection record)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from kb.models import Article
from tickets.models import Customer, Ticket


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


class RequestFormVisit(models.Model):
    """One customer visit to the request form, from opening it to filing (or leaving).

    A visit where the customer opened a suggested article and never filed is a
    deflection: the article answered the question before a ticket was needed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, null=True, on_delete=models.SET_NULL, related_name="request_form_visits"
    )
    started_at = models.DateTimeField(default=timezone.now)
    suggestions_shown = models.PositiveIntegerField(default=0)
    suggestions_opened = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Deflection rate over a window of visits.
            models.Index(fields=["started_at"], name="portal_visit_started"),
        ]
        constraints = [
            # A ticket is filed from at most one visit.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False), name="portal_visit_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"request form visit {self.id}"

    @property
    def deflected(self) -> bool:
        return self.first_opened_at is not None and self.ticket_id is None
