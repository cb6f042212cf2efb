"""The append-only event log every figure is derived from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.messages import Message
from tickets.models.people import User
from tickets.models.tickets import Ticket

if TYPE_CHECKING:
    pass


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status")
    PRIORITY = "priority", _("Priority")
    KIND = "kind", _("Kind")
    ASSIGNEE = "assignee", _("Assignee")
    TEAM = "team", _("Team")
    TAGS = "tags", _("Tags")
    SUBJECT = "subject", _("Subject")
    MAILBOX = "mailbox", _("Mailbox")
    CUSTOMER = "customer", _("Customer")
    MESSAGE = "message", _("Message")
    CC = "cc", _("Cc")
    SNOOZE = "snooze", _("Snooze")
    MERGED = "merged", _("Merged")
    SPLIT = "split", _("Split")
    LINKED = "linked", _("Linked")
    DELIVERY = "delivery", _("Delivery")
    SLA = "sla", _("SLA")
    RULE = "rule", _("Rule")
    SURVEY = "survey", _("Survey")
    FIELDS = "fields", _("Fields")
    # Mail that needs no one (tickets/services/courtesy.py): after = the call or its undo.
    COURTESY = "courtesy", _("Mail that needs no one")


class ActorKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")
    MAIL = "mail", _("Email")
    RULE = "rule", _("Automation rule")
    SYSTEM = "system", _("System")
    IMPORT = "import", _("Import")
    API = "api", _("API")


class TicketEvent(models.Model):
    """Append-only: one row per change to a ticket. Never updated, never deleted by code.

    An event stays on the ticket where it happened. When messages move to another ticket
    (a merge, a split), an event on each ticket names the other and the messages moved
    (kind merged or split, `data["messages"]`), and a message event counts for the
    ticket its message is on now: that is how the activity feed (tickets/history.py) and
    the figures (metrics/services.py) read a ticket's history.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_events"
    )
    actor_kind = models.CharField(
        max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A ticket's history in order: the activity feed and metric derivation.
            models.Index(fields=["ticket", "at", "id"], name="event_ticket_at"),
            # The counts of mail that needs no one (courtesy.counts), by time.
            models.Index(fields=["at"], condition=models.Q(kind="courtesy"), name="event_courtesy"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.kind} {self.before!r} -> {self.after!r}"
