"""Forms of the mail screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
            "notify_on_unassigned_reply": _(
                "A customer replies on an unassigned ticket of my team (or, without a team, "
                "of a mailbox I work in)"
            ),
            "next_after_reply": _("After sending a reply, open the next ticket in the same view"),
        }


class SignatureForm(forms.ModelForm):
    """The agent's own signature under their replies (Markdown)."""

    class Meta:
        model = User
        fields = ("signature",)
        labels = {"signature": _("Signature")}
        help_texts = {
            "signature": _(
                "Markdown, under each of your replies. Yours is used when you have one; "
                "leave it empty to use the mailbox's signature."
            )
        }
        widgets = {"signature": forms.Textarea(attrs={"rows": 5, "maxlength": 4000})}

    def clean_signature(self) -> str:
        signature = self.cleaned_data["signature"].strip()
        if len(signature) > 4000:
            raise forms.ValidationError(_("A signature may be at most 4,000 characters."))
        return signature
