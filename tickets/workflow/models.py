"""Team workflow: automation rules, SLA policies, assignment, canned replies, reminders.

The tables keep the names they had when these models belonged to the tickets app
(`tickets_automationrule`...): migrations workflow/0001 and tickets/0015 moved the models
without touching a row. The logic lives beside: automation/, sla.py, assignment.py,
collab.py.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Kind, Mailbox, Organization, Priority, Team, Ticket, User


class Trigger(models.TextChoices):
    CREATED = "created", _("When a ticket is created")
    UPDATED = "updated", _("When a ticket is updated")
    CHANGED = "changed", _("When a ticket is created or updated")
    SCHEDULED = "scheduled", _("On a schedule (checked every few minutes)")
    # An account's health score (service/health.py) fell below the rule's "health"
    # condition: the rule acts on the account, through its latest ticket.
    HEALTH_FELL = "health_fell", _("When an account's health falls below a threshold")


class MatchMode(models.TextChoices):
    ALL = "all", _("All conditions hold")
    ANY = "any", _("Any condition holds")


class AutomationRule(models.Model):
    """When <trigger>, if <conditions>, then <actions>.

    `conditions` is an ordered list of {"field", "op", "value"} and `actions` an ordered
    list of {"type", "value"}; tickets/workflow/automation/ validates both and documents every
    field, operator and action type. Rules run in (position, id) order.
    """

    name = models.CharField(max_length=200)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.CREATED)
    match = models.CharField(max_length=8, choices=MatchMode.choices, default=MatchMode.ALL)
    conditions = models.JSONField(default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=100)
    builtin = models.SlugField(
        max_length=50, blank=True, help_text="Set on the rules Tandem ships with."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tickets_automationrule"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"], condition=~Q(builtin=""), name="automation_rule_builtin"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RuleApplication(models.Model):
    """The last time a scheduled rule acted on a ticket, so it acts once per ticket change."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tickets_ruleapplication"
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket"], name="rule_application_once")
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id} on #{self.ticket_id}"


class RuleCursor(models.Model):
    """The last ticket event the rule engine has looked at, per ticket.

    Claimed with a conditional update, so after-commit hooks that fire twice for one change,
    or in two processes, evaluate the rules once.
    """

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_event_id = models.BigIntegerField(default=0)

    class Meta:
        db_table = "tickets_rulecursor"

    def __str__(self) -> str:
        return f"#{self.ticket_id} rules seen up to event {self.last_event_id}"


class SlaPolicy(models.Model):
    """First-response and resolution targets in business hours.

    The most specific active policy wins: priority must match; a policy that also names
    the mailbox, organization or kind beats one that does not.
    """

    name = models.CharField(max_length=200)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, blank=True)
    first_response_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, help_text="Business hours."
    )
    resolution_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, help_text="Business hours."
    )
    warn_before_minutes = models.PositiveIntegerField(
        default=60, help_text="Warn the assignee and team this long before a breach."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "tickets_slapolicy"
        ordering = ["priority", "name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class SlaAlertKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class SlaAlert(models.Model):
    """One warning or breach per ticket, target and due time.

    The beat task inserts these set-based with ON CONFLICT DO NOTHING: the unique
    constraint is what makes each alert fire once even with two beat runs overlapping.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    target = models.CharField(max_length=16, choices=SlaTarget.choices)
    kind = models.CharField(max_length=8, choices=SlaAlertKind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tickets_slaalert"
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "kind", "due_at"], name="sla_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.target} {self.kind}"


class AssignmentPolicy(models.Model):
    """Round-robin auto-assignment for one team.

    The row is also the lock: assign_round_robin takes it FOR UPDATE, so two processes
    assigning for the same team take turns and the rotation stays fair.
    """

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="assignment_policy")
    enabled = models.BooleanField(default=True)
    max_open_per_agent = models.PositiveIntegerField(
        default=25, help_text="Agents with this many open tickets are skipped."
    )
    last_assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "tickets_assignmentpolicy"
        verbose_name_plural = "assignment policies"

    def __str__(self) -> str:
        return f"Round robin for {self.team}"


class CannedReply(models.Model):
    """A saved reply with placeholders; with `changes` it is a macro.

    `owner` empty means shared with everyone. `changes` holds ticket changes applied with
    the reply: {"status", "priority", "kind", "add_tags", "remove_tags", "assign_to_me"}.
    """

    title = models.CharField(max_length=200)
    body = models.TextField()
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_replies",
        help_text="Empty: shared with every agent.",
    )
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tickets_cannedreply"
        ordering = ["title", "id"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title

    @property
    def is_macro(self) -> bool:
        return bool(self.changes)

    def editable_by(self, user: User) -> bool:
        """Its owner edits a personal reply; managers and admins the shared ones."""
        return self.owner_id == user.pk or (self.owner_id is None and user.sees_everything)


class Reminder(models.Model):
    """A follow-up reminder an agent sets on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reminders")
    agent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reminders")
    remind_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "tickets_reminder"
        ordering = ["remind_at"]
        indexes = [
            # The beat task's queue: reminders due and not yet sent.
            models.Index(
                fields=["remind_at"], condition=Q(sent_at__isnull=True), name="reminder_due"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder on #{self.ticket_id} at {self.remind_at:%Y-%m-%d %H:%M}"
