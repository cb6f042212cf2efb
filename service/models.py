"""Account health (customers and organizations) and the topics customers write about.

`AccountHealth` is the current score of an account, `HealthSnapshot` its history (one row
per account per day, the day's last score), `Topic` a phrase mined from subjects and
first customer messages, and `TicketTopic` the tickets that match it: a window's counts
and its drill-down are both read from that table.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Customer, Organization, Ticket

# Exactly one of customer and organization is set on the health rows.
_ONE_ACCOUNT = (Q(customer__isnull=False) & Q(organization__isnull=True)) | (
    Q(customer__isnull=True) & Q(organization__isnull=False)
)


class AccountHealth(models.Model):
    """The latest health of one account: the score and the factors it is the sum of."""

    customer = models.OneToOneField(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.OneToOneField(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.SmallIntegerField()
    # [{"name", "label", "points", "detail"}], in service.health.FACTORS order.
    factors = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=_ONE_ACCOUNT, name="health_one_account")]
        indexes = [
            # The at-risk lists and ?ordering=health: lowest score first.
            models.Index(fields=["score", "id"], name="health_score"),
        ]

    def __str__(self) -> str:
        return f"health {self.score} of {self.customer_id or self.organization_id}"


class HealthSnapshot(models.Model):
    """An account's score on one day (the last computed that day): the trend chart."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    score = models.SmallIntegerField()
    factors = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_ONE_ACCOUNT, name="snapshot_one_account"),
            # One row per account per day; the unique indexes also serve the trend's read
            # (an account's days in order).
            models.UniqueConstraint(
                fields=["customer", "day"],
                condition=Q(customer__isnull=False),
                name="snapshot_customer_day",
            ),
            models.UniqueConstraint(
                fields=["organization", "day"],
                condition=Q(organization__isnull=False),
                name="snapshot_organization_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.score}"


class Topic(models.Model):
    """A key phrase: `key` is its normalised form (service.topics.phrase_keys), `phrase`
    the words customers use most for it."""

    key = models.CharField(max_length=200, unique=True)
    phrase = models.CharField(max_length=200)
    mined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


class TicketTopic(models.Model):
    """A ticket whose subject or first customer message matches a topic, with the
    ticket's filter columns copied so a window's counts read this table alone."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=16)
    mailbox_id = models.IntegerField()
    team_id = models.IntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "topic"], name="ticket_topic_once")
        ]
        indexes = [
            # A window's counts per topic (GROUP BY topic over a created_at range): an
            # index-only scan with the filter columns included.
            models.Index(
                fields=["created_at"],
                name="ticket_topic_window",
                include=["topic", "kind", "mailbox_id", "team_id"],
            ),
            # The drill-down: one topic's tickets in a window, newest first.
            models.Index(fields=["topic", "-created_at"], name="ticket_topic_drill"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.topic_id}"


class TopicDay(models.Model):
    """How many tickets of one local day (TIME_ZONE) matched a topic, per kind, mailbox
    and team: a window's whole days are summed from here, its partial first and last day
    counted in TicketTopic (service.topics.window_topics)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16)
    mailbox_id = models.IntegerField()
    team_id = models.IntegerField(null=True)
    count = models.IntegerField()

    class Meta:
        indexes = [
            # A window's whole days, summed per topic.
            models.Index(
                fields=["day"],
                name="topic_day_window",
                include=["topic", "kind", "mailbox_id", "team_id", "count"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.topic_id}: {self.count}"
