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


class SignatureForm(forms.ModelForm):
    """The agent's own signature under their replies (Markdown)."""

    class Meta:
        model = User
        fields = ("signature",)
        labels = {"signature": "Signature"}
        help_texts = {
            "signature": (
                "Markdown, under each of your replies. Yours is used when you have one; "
                "leave it empty to use the mailbox's signature."
            )
        }
        widgets = {"signature": forms.Textarea(attrs={"rows": 5, "maxlength": 4000})}

    def clean_signature(self) -> str:
        signature = self.cleaned_data["signature"].strip()
        if len(signature) > 4000:
            raise forms.ValidationError("A signature may be at most 4,000 characters.")
        return signature
