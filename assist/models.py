"""What assist keeps: the routing model it trained, the suggestions it made, and the use
agents made of what it offered (counted for the admin screen and the dashboards)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from tickets.models import Ticket, User

ROUTED_FIELDS = ("team", "kind", "priority")
# How the pages name them (the keys are stored and sent as they are).
FIELD_LABELS = {
    "team": gettext_lazy("Team"),
    "kind": gettext_lazy("Kind"),
    "priority": gettext_lazy("Priority"),
}


class RoutingModel(models.Model):
    """One training run: held-out accuracy per field, the words that weigh most for each
    team, and the fitted pipelines (pickled by joblib; written only by assist.routing in
    this process's own database, never loaded from elsewhere). The newest row is in use."""

    trained_at = models.DateTimeField(default=timezone.now)
    samples = models.PositiveIntegerField(default=0)
    # {"team": {"accuracy": 0.93, "held_out": 120, "classes": 3}, ...}
    evaluation = models.JSONField(default=dict)
    # {"Billing": ["invoice", "refund", ...], ...}
    top_words = models.JSONField(default=dict)
    pipelines = models.BinaryField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"routing model of {self.trained_at:%Y-%m-%d %H:%M}"


class Suggestion(models.Model):
    """A field value the model suggested for a ticket, with its confidence; whether and
    by whom it was applied. Accuracy in use compares it with the ticket's value now."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(RoutingModel, null=True, on_delete=models.SET_NULL, related_name="+")
    field = models.CharField(max_length=16)
    value = models.CharField(max_length=200)
    confidence = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Null with applied_at set: a rule applied it.
    applied_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "field"], name="assist_one_suggestion")
        ]
        indexes = [models.Index(fields=["created_at"], name="assist_suggestion_created")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.field}={self.value} ({self.confidence:.2f})"

    @property
    def field_label(self) -> str:
        return str(FIELD_LABELS.get(self.field, self.field))


class UseKind(models.TextChoices):
    SOLVED_REPLY = "solved_reply", gettext_lazy("Solved ticket's reply inserted")
    ARTICLE = "article", gettext_lazy("Article inserted")
    DRAFT = "draft", gettext_lazy("Draft inserted")


class Use(models.Model):
    """An agent inserted something assist offered into the composer."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=UseKind.choices)
    # The solved ticket's number or the article's id.
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "at"], name="assist_use_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"
