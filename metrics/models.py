"""Survey responses (CSAT, CES, NPS). Per-ticket figures live beside them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Customer, Ticket, User


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    CES = "ces", "CES (1-7)"
    NPS = "nps", "NPS (0-10)"


SCORE_RANGES = {SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7), SurveyKind.NPS: (0, 10)}


class SurveyResponse(models.Model):
    """One answer. CSAT and CES are about a ticket; NPS is asked of a customer.

    A repeat answer to the same survey updates this row (one row per ticket and kind, or
    per NPS invitation), so a second click changes the answer instead of adding one.
    """

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="survey_responses"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_responses"
    )
    # The assignee when the survey was answered: the agent filter of CSAT and CES.
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    # Import idempotency, and one row per NPS invitation.
    external_key = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            # Dashboards and the summary API: responses of a kind submitted in a window.
            models.Index(fields=["kind", "submitted_at"], name="survey_kind_submitted"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(ticket__isnull=False),
                name="one_response_per_ticket_and_kind",
            ),
            models.UniqueConstraint(
                fields=["external_key"], condition=~Q(external_key=""), name="survey_external_key"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="csat", score__gte=1, score__lte=5)
                    | Q(kind="ces", score__gte=1, score__lte=7)
                    | Q(kind="nps", score__gte=0, score__lte=10)
                ),
                name="survey_score_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} from {self.customer_id}"
