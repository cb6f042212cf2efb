from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.signin import identity

MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each checked by FileField, then the set by size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]
        cleaned = [upload for upload in cleaned if upload]
        if len(cleaned) > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(count)s files.") % {"count": MAX_FILES})
        limit = settings.MAX_UPLOAD_BYTES
        if sum(upload.size for upload in cleaned) > limit:
            raise forms.ValidationError(
                _("Attachments may add up to %(size)s at most.") % {"size": filesizeformat(limit)},
                code="too_large",
            )
        return cleaned


class IdentityEmailField(forms.EmailField):
    """An address as one sign-in identity (helpdesk.signin.identity), before it is
    checked: "LI@Customer.test" in fullwidth letters is li@customer.test."""

    def to_python(self, value: Any) -> str:
        return identity(super().to_python(value) or "")


class EmailLinkForm(forms.Form):
    email = IdentityEmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )


class PasswordSignInForm(forms.Form):
    email = IdentityEmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RequestForm(forms.Form):
    subject = forms.CharField(
        max_length=200,
        label=gettext_lazy("Subject"),
        help_text=gettext_lazy("A few words about your question."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 7}),
        label=gettext_lazy("Description"),
        help_text=gettext_lazy("What happened, what you expected, and anything you already tried."),
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"),
        help_text=gettext_lazy("Screenshots or files, up to 10."),
    )
    visit = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if len(subject) < 3:
            raise forms.ValidationError(_("Please write a subject of at least 3 characters."))
        return subject

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(_("Please describe your question."))
        return description


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your reply"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=gettext_lazy("Attachments"))

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Please write a reply."))
        return body
