"""Forms of the mail screens."""

from django import forms

from tickets.models import User


class NotificationSettingsForm(forms.ModelForm):
    """The emails an agent chooses to get about their tickets."""

    class Meta:
        model = User
        fields = ("notify_on_assignment", "notify_on_customer_reply", "notify_on_unassigned_reply")
        labels = {
            "notify_on_assignment": "Someone else assigns me a ticket",
            "notify_on_customer_reply": "A customer replies on a ticket assigned to me",
            "notify_on_unassigned_reply": (
                "A customer replies on an unassigned ticket of my team (or, without a team, "
                "of a mailbox I work in)"
            ),
        }
