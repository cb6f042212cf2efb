"""Outgoing webhooks: the endpoints admins register, the deliveries owed to them (the
outbox: written in the transaction of the change, sent by Celery) and each attempt."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from helpdesk.encryption import EncryptedTextField


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", gettext_lazy("Ticket created")
    TICKET_UPDATED = "ticket.updated", gettext_lazy("Ticket updated")
    MESSAGE_CREATED = "message.created", gettext_lazy("Message created")
    SURVEY_ANSWERED = "survey.answered", gettext_lazy("Survey answered")
    CUSTOMER_CREATED = "customer.created", gettext_lazy("Customer created")


# Sent only when an admin presses "Send test": never stored as a subscription.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Plain for signing, encrypted at rest (helpdesk/encryption.py).
    secret = EncryptedTextField()
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "tickets.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the first of an unbroken run of failed attempts happened; a success clears it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    SENDING = "sending", pgettext_lazy("delivery status", "Sending")
    DELIVERED = "delivered", gettext_lazy("Delivered")
    FAILED = "failed", gettext_lazy("Failed")


class WebhookDelivery(models.Model):
    """One event owed to one endpoint. `pk` orders a ticket's deliveries (each written
    in the transaction that holds the ticket's row lock); `delivery_id` is what the
    receiver sees, the same on every attempt."""

    id = models.BigAutoField(primary_key=True)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    # What the event is about: the ticket (whose deliveries go in order), the message or
    # the customer whose resource is the payload's `data`.
    ticket_id = models.BigIntegerField(null=True, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The JSON sent, fixed at the first attempt so every retry sends the same bytes.
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the sweep last enqueued it (a task lost with the broker): it waits a lease
    # before enqueueing it again.
    swept_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            # The sweep and the head-of-line check: unsettled deliveries of a ticket and
            # endpoint, oldest first.
            models.Index(
                fields=["endpoint", "ticket_id", "id"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="webhook_delivery_unsettled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
