"""Forms of the mail screens."""

from django import forms

from tickets.models import NotificationKind, User


class NotificationSettingsForm(forms.ModelForm):
    """The notices an agent chooses to get, per kind, in the app (the bell) and by email
    (tickets.notify.SETTINGS names which field is which), and where a reply leads."""

    APP_FIELDS = (
        "app_on_mention",
        "app_on_assignment",
        "app_on_customer_reply",
        "app_on_sla_warning",
    )
    EMAIL_FIELDS = (
        "notify_on_mention",
        "notify_on_assignment",
        "notify_on_customer_reply",
        "notify_on_unassigned_reply",
        "notify_on_sla_warning",
    )

    class Meta:
        model = User
        fields = (
            "app_on_mention",
            "app_on_assignment",
            "app_on_customer_reply",
            "app_on_sla_warning",
            "notify_on_mention",
            "notify_on_assignment",
            "notify_on_customer_reply",
            "notify_on_unassigned_reply",
            "notify_on_sla_warning",
            "next_after_reply",
        )
        labels = {
            **{f"app_on_{kind}": label for kind, label in NotificationKind.choices},
            **{f"notify_on_{kind}": label for kind, label in NotificationKind.choices},
            "notify_on_unassigned_reply": (
                "A customer replies on an unassigned ticket of my team (or, without a team, "
                "of a mailbox I work in)"
            ),
            "next_after_reply": "After sending a reply, open the next ticket in the same view",
        }
