"""Where tickets arrive and whose clock measures them: mailboxes and business calendars."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.encryption import EncryptedTextField
from tickets.business_hours import CalendarError, parse_hours, read_zone
from tickets.models.people import Team

if TYPE_CHECKING:
    pass


def _webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class BusinessCalendar(models.Model):
    """Working hours in a time zone, with holidays; used by SLAs and business-time figures.

    `hours` maps weekday keys ("mon".."sun") to lists of ["HH:MM", "HH:MM"] intervals, as in
    specs/import-format.md.
    """

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=dict)
    holidays = ArrayField(models.DateField(), default=list, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A zone and hours the business-time arithmetic can read (the admin's form): a
        typo saved here would fail every figure and SLA due time of its tickets."""
        errors = {}
        for name, check in (("timezone", read_zone), ("hours", parse_hours)):
            try:
                check(getattr(self, name))
            except CalendarError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)


class MailSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (plain text)")


class Mailbox(models.Model):
    """A shared address, e.g. support@acme.test, and how its mail comes in and goes out."""

    address = models.EmailField(unique=True)
    name = models.CharField(max_length=100)
    teams = models.ManyToManyField(Team, related_name="mailboxes", blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)

    from_name = models.CharField(max_length=100, blank=True)
    signature = models.TextField(blank=True)
    auto_ack_enabled = models.BooleanField(default=False)
    auto_ack_template = models.TextField(blank=True)

    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=8, choices=MailSecurity.choices, default=MailSecurity.SSL
    )
    imap_user = models.CharField(max_length=255, blank=True)
    # Passwords and the webhook secret are kept encrypted (helpdesk/encryption.py).
    imap_password = EncryptedTextField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_processed_folder = models.CharField(
        max_length=255, blank=True, help_text="Move fetched mail here; empty means flag it seen."
    )
    poll_interval_seconds = models.PositiveIntegerField(default=60)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    # The last poll (tickets.mail.imap.poll): when it ended, and why it failed ("" if it
    # worked). Admins see a failing mailbox on every page, not only in the worker's log.
    imap_polled_at = models.DateTimeField(null=True, blank=True)
    imap_error = models.TextField(blank=True)
    imap_failing_since = models.DateTimeField(null=True, blank=True)

    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=8, choices=MailSecurity.choices, default=MailSecurity.STARTTLS
    )
    smtp_user = models.CharField(max_length=255, blank=True)
    smtp_password = EncryptedTextField(max_length=255, blank=True)

    webhook_secret = EncryptedTextField(max_length=64, default=_webhook_secret)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_mailbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)
