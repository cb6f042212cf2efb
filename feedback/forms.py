"""Forms of the feedback pages: they check the shape of what people type; the rules are
in feedback/services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from feedback.models import FeedbackItem, ItemKind, ItemStatus
from tickets.models import Mailbox

PLACEHOLDER_HELP = _(
    "Placeholders: {{customer.first_name}}, {{customer.name}}, {{agent.first_name}}…"
)


class FilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"), max_length=200)
    status = forms.ChoiceField(
        required=False, choices=[("", _("Any status")), *ItemStatus.choices], label=_("Status")
    )
    kind = forms.ChoiceField(
        required=False, choices=[("", _("Any kind")), *ItemKind.choices], label=_("Kind")
    )
    public = forms.ChoiceField(
        required=False,
        choices=[("", _("Public or not")), ("yes", _("On the roadmap")), ("no", _("Not public"))],
        label=_("Roadmap"),
    )


class ItemForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Title"))
    kind = forms.ChoiceField(choices=ItemKind.choices, initial=ItemKind.FEATURE, label=_("Kind"))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ItemStatus.choices, label=_("Status"))
    public = forms.BooleanField(
        required=False,
        label=_("Show on the public roadmap"),
        help_text=_("Customers see the title, the description and the status in the help center."),
    )


class LinkForm(forms.Form):
    """The ticket page: link an existing item, or create one with this title."""

    item = forms.ModelChoiceField(
        queryset=FeedbackItem.objects.none(), required=False, label=_("Feedback item")
    )
    title = forms.CharField(required=False, max_length=200, label=_("Or a new item"))
    kind = forms.ChoiceField(choices=ItemKind.choices, initial=ItemKind.FEATURE, label=_("Kind"))

    def __init__(self, *args: Any, choices: QuerySet[FeedbackItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("item") and not (data.get("title") or "").strip():
            raise forms.ValidationError(_("Choose an item, or give a new one a title."))
        return data


class NotesForm(forms.Form):
    """The note to everyone who asked, pre-filled with the canned text."""

    mailbox = forms.ModelChoiceField(
        queryset=Mailbox.objects.none(), empty_label=None, label=_("Mailbox")
    )
    subject = forms.CharField(max_length=200, label=_("Subject"))
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 9}),
        max_length=20_000,
        help_text=PLACEHOLDER_HELP,
    )

    def __init__(self, *args: Any, mailboxes: QuerySet[Mailbox], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = mailboxes  # type: ignore[attr-defined]


class UpdateForm(NotesForm):
    """A shipped item made a product update: the changelog entry, then the note."""

    title = forms.CharField(max_length=200, label=_("Update title"))
    update_body = forms.CharField(
        label=_("What changed (shown in the changelog)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )
    field_order = ["title", "update_body", "mailbox", "subject", "body"]
