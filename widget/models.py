"""The sites that embed the help widget."""

from __future__ import annotations

import re
import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext

from helpdesk.encryption import EncryptedTextField
from tickets.models import Mailbox

# What a browser sends in Origin: a scheme, a host name (or IPv6 address) and a port.
_ORIGIN = re.compile(
    r"https?://(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::(?P<port>\d{1,5}))?"
)


def new_key() -> str:
    return secrets.token_urlsafe(12)


def new_secret() -> str:
    return secrets.token_hex(32)


def normalize_origin(value: str) -> str:
    """`https://host[:port]` as a browser sends it in Origin, or ValidationError."""
    origin = value.strip().rstrip("/").lower()
    match = _ORIGIN.fullmatch(origin)
    if match is None or (match["port"] and not 0 < int(match["port"]) < 65536):
        raise ValidationError(
            gettext(
                "“%(value)s” is not an origin: write https://host or https://host:port, "
                "with nothing after it."
            )
            % {"value": value.strip()},
            code="origin",
        )
    return origin


class WidgetSite(models.Model):
    """A website that embeds the widget: where it may be framed, where its tickets go,
    and the secret its server signs its signed-in users' addresses with."""

    name = models.CharField(max_length=120)
    key = models.CharField(max_length=32, unique=True, default=new_key, editable=False)
    allowed_origins = ArrayField(models.CharField(max_length=300), default=list)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="widget_sites")
    secret = EncryptedTextField(default=new_secret)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WidgetTicket(models.Model):
    """A ticket filed from a site's widget, and whether the site vouched for its address."""

    site = models.ForeignKey(WidgetSite, on_delete=models.PROTECT, related_name="tickets")
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="widget_ticket"
    )
    verified = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} from {self.site_id}"
