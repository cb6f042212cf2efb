"""Mail-side tables: the quarantine of messages that could not be ingested."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone


def quarantine_path(instance: QuarantinedEmail, filename: str) -> str:
    return f"quarantine/{timezone.now():%Y/%m}/{secrets.token_hex(8)}.eml"


class QuarantineState(models.TextChoices):
    HELD = "held", "Held"
    RELEASED = "released", "Released"


class QuarantinedEmail(models.Model):
    """A message kept raw because it could not be parsed or was refused, with the reason.

    Nothing that reaches a door (IMAP, webhook, command) is dropped: it becomes a
    ticket, a message on a ticket, a known duplicate, or a row here that an admin can
    download and retry.
    """

    mailbox = models.ForeignKey(
        "tickets.Mailbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to=quarantine_path, max_length=300)
    # The same bytes arriving again are the same quarantine entry, not a new one.
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    reason = models.TextField()
    source = models.CharField(max_length=16, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=16, choices=QuarantineState.choices, default=QuarantineState.HELD
    )
    attempts = models.PositiveSmallIntegerField(default=1)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "tickets_quarantinedemail"
        ordering = ["-received_at", "-id"]
        verbose_name = "quarantined email"
        indexes = [
            # The admin list: held messages, newest first.
            models.Index(fields=["state", "-received_at"], name="quarantine_state_received"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} — {self.reason[:60]}"


def inbound_path(instance: InboundEmail, filename: str) -> str:
    return f"inbound/{timezone.now():%Y/%m}/{secrets.token_hex(8)}.eml"


class InboundState(models.TextChoices):
    RECEIVED = "received", "Received"
    INGESTING = "ingesting", "Ingesting"
    DONE = "done", "Done"


class InboundEmail(models.Model):
    """A message the inbound webhook received, kept raw until it is ingested.

    The webhook stores the bytes and answers at once; a task ingests them (parsing may
    take seconds, and a provider's request must not wait on it, nor be lost with a
    worker). The row is the record: mail.sweep_inbound re-enqueues rows whose task was
    lost, and a worker claims a row before ingesting it, so a message is ingested once
    however often its task runs (and ingest itself knows a message it stored).
    """

    mailbox = models.ForeignKey(
        "tickets.Mailbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.FileField(upload_to=inbound_path, max_length=300)
    # The provider posting the same message again (its retry) is this row again.
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=16, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=32, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "inbound email"
        indexes = [
            # mail.sweep_inbound: rows not done yet, oldest first.
            models.Index(
                fields=["received_at"],
                name="inbound_pending_received",
                condition=~models.Q(state="done"),
            ),
        ]

    def __str__(self) -> str:
        return f"inbound {self.pk} ({self.state})"
