"""Survey responses (CSAT, CES, NPS). Per-ticket figures live beside them."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tickets.models import Customer, Ticket, User


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    CES = "ces", "CES (1-7)"
    NPS = "nps", "NPS (0-10)"


SCORE_RANGES: dict[str, tuple[int, int]] = {
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
    SurveyKind.NPS: (0, 10),
}
# The lowest score of a middling and of a good answer: CSAT 1-2 bad, 3 middling, 4-5 good;
# CES (7 = very easy) 1-3 hard, 4 neutral, 5-7 easy; NPS 0-6 detractor, 7-8 passive,
# 9-10 promoter.
SCORE_TONES = {SurveyKind.CSAT: (3, 4), SurveyKind.CES: (4, 5), SurveyKind.NPS: (7, 9)}


def score_tone(kind: str, score: int) -> str:
    """How an answer reads: "bad", "mid" or "good" (the colour of its badge)."""
    mid, good = SCORE_TONES[SurveyKind(kind)]
    return "good" if score >= good else "mid" if score >= mid else "bad"


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


class _TicketFilterColumns(models.Model):
    """Copies of the ticket's current kind, mailbox and team: the dashboard filters."""

    kind = models.CharField(max_length=16)
    mailbox = models.ForeignKey(
        "tickets.Mailbox", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    team = models.ForeignKey(
        "tickets.Team",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class TicketFigures(_TicketFilterColumns):
    """One row per ticket: its figures, derived from its events by metrics.figures.

    Written only by metrics.services (the incremental worker and recompute_metrics),
    both through the same derivation, so the two paths agree exactly. Foreign keys carry
    no database constraint: the row is a cache of the event log that a recompute can
    rebuild at any time, and bulk rewrites should not fight the referenced tables' locks.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="figures"
    )
    status = models.CharField(max_length=16)
    assignee = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField()
    customer_initiated = models.BooleanField()

    first_reply_at = models.DateTimeField(null=True)
    first_reply_agent = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    first_response_seconds = models.FloatField(null=True)
    first_response_business_seconds = models.FloatField(null=True)

    first_solve_at = models.DateTimeField(null=True)
    first_resolution_seconds = models.FloatField(null=True)
    first_resolution_business_seconds = models.FloatField(null=True)

    final_solve_at = models.DateTimeField(null=True)
    final_solve_assignee = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    full_resolution_seconds = models.FloatField(null=True)
    full_resolution_business_seconds = models.FloatField(null=True)

    agent_replies = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    # Moves to a team of a higher tier (metrics.figures).
    escalations = models.PositiveIntegerField(default=0, db_default=0)
    one_touch = models.BooleanField(default=False)
    calendar = models.ForeignKey(
        "tickets.BusinessCalendar",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "ticket figures"
        indexes = [
            # Each figure's index covers its filters (team, mailbox) and grouping columns
            # (agent, team), so a dashboard's pass over two windows reads the index only.
            # Tickets created in a window (summary, dashboards, charts).
            models.Index(
                fields=["created_at", "kind"],
                name="figures_created_covering",
                include=["team", "mailbox"],
            ),
            # FRT aggregates: tickets whose first public agent reply falls in the window.
            models.Index(
                fields=["first_reply_at", "kind"],
                condition=Q(first_response_seconds__isnull=False),
                name="figures_first_reply_covering",
                include=[
                    "first_response_seconds",
                    "first_response_business_seconds",
                    "first_reply_agent",
                    "team",
                    "mailbox",
                ],
            ),
            # Resolution, FCR and reopen aggregates: final solves in the window.
            models.Index(
                fields=["final_solve_at", "kind"],
                condition=Q(final_solve_at__isnull=False),
                name="figures_final_solve_covering",
                include=[
                    "full_resolution_seconds",
                    "full_resolution_business_seconds",
                    "customer_initiated",
                    "one_touch",
                    "reopens",
                    "escalations",
                    "final_solve_assignee",
                    "team",
                    "mailbox",
                ],
            ),
            # The sweeper: rows older than their ticket's last change.
            models.Index(fields=["computed_at"], name="figures_computed"),
        ]

    def __str__(self) -> str:
        return f"figures of #{self.ticket_id}"


class TicketStateSpan(_TicketFilterColumns):
    """A stretch of a ticket's life with one (open or done, assignee) state.

    `during` is (from, to]: the state after every event at `from` and before `to`, so the
    state "at" an instant t (what a window ending at t sees) is the span that contains t.
    Backlog at the end of a window, and the assignee at the end for the agent filter of
    tickets created and backlog, come from here.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    during = DateTimeRangeField()
    # The bounds of `during` again, as plain columns for btree indexes.
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True)
    is_open = models.BooleanField()
    assignee = models.ForeignKey(
        User, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        # Backlog at an instant t is counted in two parts (metrics.aggregates.backlog_sql),
        # each a range of one btree read index-only: tickets open now that opened before t,
        # and open stretches that ended at or after t and began before it. Backlog over
        # time adds the stretches that start and end inside the window to the backlog at
        # its start. (A statistics object in migration 0004 tells the planner how
        # is_open and "ends_at IS NULL" go together, so it picks these indexes.)
        indexes = [
            models.Index(
                fields=["starts_at"],
                include=["kind", "team", "mailbox", "assignee", "ticket"],
                condition=Q(is_open=True, ends_at__isnull=True),
                name="span_open_now",
            ),
            models.Index(
                fields=["ends_at"],
                include=["starts_at", "kind", "team", "mailbox", "assignee", "ticket"],
                condition=Q(is_open=True, ends_at__isnull=False),
                name="span_open_ended",
            ),
            # Stretches that begin inside a window (backlog over time), index-only too.
            models.Index(
                fields=["starts_at"],
                include=["kind", "team", "mailbox", "assignee"],
                condition=Q(is_open=True),
                name="span_open_start_covering",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {'open' if self.is_open else 'done'} {self.during}"


class DayCount(_TicketFilterColumns):
    """Changes to three counts of one local day (in DayCountZone's time zone), kind, team
    and mailbox: tickets created, open spans that began and open spans that ended.

    Triggers on the figures and span tables (migration 0006) append a row per statement
    that writes them, so every path (the worker, recompute, import, a deleted ticket's
    cascade) keeps the counts exact; readers add the rows up. Appending never waits on a
    lock another writer holds, where updating one counter row per day would serialize the
    workers on today's row. `compact_day_counts` folds the rows into one per key.

    Tickets created and the backlog over whole local days come from here
    (metrics.aggregates): the backlog at the end of day D is the sum of opened - closed
    over the days up to D, as an open span counts from the day after it began.
    """

    day = models.DateField()
    created = models.IntegerField(default=0)
    opened = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: +{self.created} created, {self.opened - self.closed} open"


class DayCountZone(models.Model):
    """The one time zone whose local days DayCount counts (settings.TIME_ZONE when the
    counts were last rebuilt). A window in another zone is counted from the spans."""

    name = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name


class SurveyInvitation(models.Model):
    """A survey we sent: claims "this ticket was offered CSAT" and drives the NPS throttle.

    Inserting the row is the claim (unique per ticket and kind), so a retried task or two
    workers never mail the same customer twice for one ticket.
    """

    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # NPS throttle: was this customer invited in the last N days?
            models.Index(fields=["customer", "kind", "-created_at"], name="invitation_throttle"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(ticket__isnull=False),
                name="one_invitation_per_ticket_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} invitation to {self.customer_id}"
