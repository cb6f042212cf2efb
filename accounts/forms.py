"""Forms of the sign-in pages: a code, the two-factor policy."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from tickets.models import Role
from tickets.models.people import STAFF_ROLES


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class TwoFactorPolicyForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles that must use two-factor sign-in"),
        choices=[(role.value, role.label) for role in Role if role in STAFF_ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
