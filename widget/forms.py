from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Mailbox
from widget.models import WidgetSite, normalize_origin


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20000, label=_("Message"))
    page_url = forms.URLField(max_length=2000, required=False, assume_scheme="https")
    visit = forms.CharField(max_length=64, required=False)
    user_hash = forms.CharField(max_length=128, required=False)


class ReplyForm(forms.Form):
    token = forms.CharField(max_length=500)
    body = forms.CharField(max_length=20000)


class OriginsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        lines = [line for line in str(value or "").splitlines() if line.strip()]
        return list(dict.fromkeys(normalize_origin(line) for line in lines))

    def prepare_value(self, value: Any) -> str:
        return "\n".join(value) if isinstance(value, list) else str(value or "")


class SiteForm(forms.ModelForm):
    allowed_origins = OriginsField(
        label=_("Allowed origins"),
        help_text=_(
            "One per line, e.g. https://www.example.com or http://localhost:3000. "
            "Only pages on these origins can open the widget."
        ),
    )

    class Meta:
        model = WidgetSite
        fields = ["name", "allowed_origins", "mailbox", "enabled"]
        labels = {"name": _("Name"), "mailbox": _("Mailbox"), "enabled": _("On")}
        help_texts = {"mailbox": _("Where the widget's tickets go.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = Mailbox.objects.filter(is_active=True)  # type: ignore[attr-defined]
