"""Feedback items (feature requests and bugs), who asked for them, what they were told,
and the product updates of the help center's changelog.

A customer asks for an item through a linked ticket, a vote or a follow (`Ask`): each
links them to the item the same way. A customer is told about an item once (`Notice`,
unique per item and customer), whichever path told them (the note on shipping, or the
product update).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Customer, Ticket, User


class ItemKind(models.TextChoices):
    FEATURE = "feature", _("Feature request")
    BUG = "bug", _("Bug")


class ItemStatus(models.TextChoices):
    UNDER_REVIEW = "under_review", _("Under review")
    PLANNED = "planned", _("Planned")
    SHIPPED = "shipped", _("Shipped")
    DECLINED = "declined", _("Declined")


class FeedbackItem(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=ItemKind.choices, default=ItemKind.FEATURE)
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.UNDER_REVIEW
    )
    # Shown on the help center's roadmap: only an admin or a manager sets it.
    public = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "public"], name="feedback_item_status")]

    def __str__(self) -> str:
        return self.title


class AskVia(models.TextChoices):
    TICKET = "ticket", _("Ticket")
    VOTE = "vote", _("Vote")
    FOLLOW = "follow", _("Follow")


class Ask(models.Model):
    """A customer asking for an item: a ticket an agent linked, or their vote or follow."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="asks")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    via = models.CharField(max_length=8, choices=AskVia.choices)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    linked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "ticket"], condition=Q(via="ticket"), name="feedback_ticket_once"
            ),
            models.UniqueConstraint(
                fields=["item", "customer", "via"],
                condition=~Q(via="ticket"),
                name="feedback_vote_once",
            ),
            models.CheckConstraint(
                condition=Q(via="ticket", ticket__isnull=False)
                | (~Q(via="ticket") & Q(ticket__isnull=True)),
                name="feedback_ticket_iff_linked",
            ),
        ]
        indexes = [models.Index(fields=["customer", "item"], name="feedback_ask_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} asks for {self.item_id} by {self.via}"


class NoticeReason(models.TextChoices):
    SHIPPED = "shipped", _("Note on shipping")
    UPDATE = "update", _("Product update")


class Notice(models.Model):
    """A customer told about an item, by the outreach ticket that carried the note."""

    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="notices")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=8, choices=NoticeReason.choices)
    sent_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "customer"], name="feedback_told_once")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} told of {self.item_id}"


class ProductUpdate(models.Model):
    """An entry of the help center's changelog, from a shipped item or written alone."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    item = models.OneToOneField(
        FeedbackItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="update"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
