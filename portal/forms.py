from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.signin import identity
from portal.models import RequestForm
from tickets import services as ticket_services
from tickets.forms import custom_form_field
from tickets.models import AppliesTo

MAX_FILES = 10
CUSTOM_PREFIX = "field_"


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


class NewRequestForm(forms.Form):
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

    def __init__(self, *args: Any, request_form: RequestForm | None = None, **kwargs: Any) -> None:
        """With one of the admins' request forms, its custom fields follow the description
        (as `field_<key>`; an archived field is left out)."""
        super().__init__(*args, **kwargs)
        self.custom_keys: list[str] = []
        if request_form is None:
            return
        known = ticket_services.definitions(AppliesTo.TICKET)
        for key in request_form.fields:
            if key in known:
                self.fields[CUSTOM_PREFIX + key] = custom_form_field(
                    known[key], required=key in request_form.required
                )
                self.custom_keys.append(key)

    def custom_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + key] for key in self.custom_keys]

    def custom_values(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(CUSTOM_PREFIX + key) for key in self.custom_keys}

    def add_field_errors(self, errors: dict[str, str]) -> None:
        """The fields service's refusals, under the inputs they are about."""
        for key, text in errors.items():
            name = CUSTOM_PREFIX + key
            self.add_error(name if name in self.fields else None, text)

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


class RequestFormSettingsForm(forms.ModelForm):
    """An admin's request form: its name, what it asks, where it routes. The rules (the
    team works the mailbox, required fields are on the form) are portal.request_forms'."""

    # The form's metaclass takes a declared field out of the class, so `self.fields` stays
    # the form's fields; the stubs take it for this field.
    fields = forms.MultipleChoiceField(  # type: ignore[assignment]  # django-stubs: as said
        label=gettext_lazy("Fields it asks for"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Ticket fields, in the order of the Custom fields settings."),
    )
    required = forms.MultipleChoiceField(
        label=gettext_lazy("Required fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "The customer must fill these in; each must be one the form asks for."
        ),
    )

    class Meta:
        model = RequestForm
        fields = ["name", "description", "kind", "team", "mailbox", "fields", "required"]
        labels = {
            "name": gettext_lazy("Name"),
            "description": gettext_lazy("Description"),
            "kind": gettext_lazy("Kind of ticket"),
            "team": gettext_lazy("Team it routes to"),
            "mailbox": gettext_lazy("Mailbox"),
        }
        help_texts = {
            "description": gettext_lazy("Shown to customers under the form's name."),
            "team": gettext_lazy("Empty: no team; the team must work the form's mailbox."),
            "mailbox": gettext_lazy("Empty: the default mailbox."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = ticket_services.definitions(AppliesTo.TICKET)
        options = [(key, d.label) for key, d in known.items()]
        self.fields["fields"].choices = options  # type: ignore[index]  # django-stubs: as above
        self.fields["required"].choices = options  # type: ignore[index]  # django-stubs: as above

    def validate_unique(self) -> None:
        """The service says a name is taken, in its words."""

    def validate_constraints(self) -> None:
        """Likewise."""
