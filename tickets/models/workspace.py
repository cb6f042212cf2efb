"""What an agent keeps in the workspace: saved inbox views and in-app notifications."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.people import Team, User
from tickets.models.tickets import Ticket


class ViewScope(models.TextChoices):
    PERSONAL = "personal", _("Only me")
    TEAM = "team", _("A team")
    EVERYONE = "everyone", _("Everyone")


class SavedView(models.Model):
    """A named set of inbox filters, sort and columns: the inbox's query string.

    Filters only narrow what the viewer may see (tickets.selectors.filtered_tickets starts
    from Ticket.objects.visible_to): a shared view never shows anyone another team's
    tickets. A person's own views and settings go with them (CASCADE): they are not
    help-desk records.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=10, choices=ViewScope.choices, default=ViewScope.PERSONAL)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE)
    # The inbox's query string (tickets.forms.InboxFilterForm reads it), without a cursor.
    params = models.CharField(max_length=2000, blank=True)
    # The inbox's optional columns shown, in order (tickets.saved_views.COLUMNS).
    columns = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="team") | models.Q(team__isnull=False),
                name="saved_view_team_scope_names_team",
            )
        ]

    def __str__(self) -> str:
        return self.name


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentions of me in a note")
    ASSIGNMENT = "assignment", _("Someone else assigns me a ticket")
    CUSTOMER_REPLY = "customer_reply", _("A customer replies on a ticket assigned to me")
    SLA_WARNING = "sla_warning", _("SLA warnings on my tickets or my team's")


class Notification(models.Model):
    """One in-app notice to an agent about a ticket (tickets.notify writes them, to
    those who may open the ticket and asked for the kind)."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    headline = models.CharField(max_length=200)
    text = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The bell's list: a recipient's newest notices.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            # The bell's count, polled every 15 s: a recipient's unread ones only.
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.headline
