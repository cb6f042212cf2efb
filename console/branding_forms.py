"""The branding page's form: its fields checked by the rules of console.branding."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy

from console import branding


class BrandingForm(forms.Form):
    product_name = forms.CharField(
        max_length=60,
        label=gettext_lazy("Product name"),
        help_text=gettext_lazy("Shown in the page headers and in the mail customers get."),
    )
    help_center_title = forms.CharField(max_length=100, label=gettext_lazy("Help-center title"))
    accent = forms.CharField(
        max_length=7,
        required=False,
        label=gettext_lazy("Accent colour"),
        help_text=gettext_lazy(
            "#rrggbb, dark enough for white text on it (contrast 4.5:1). Empty: the default."
        ),
        widget=forms.TextInput(attrs={"placeholder": "#4f46e5", "spellcheck": "false"}),
    )
    logo = forms.FileField(
        required=False,
        label=gettext_lazy("Logo"),
        help_text=gettext_lazy("PNG, JPEG or WebP, at most 512 KB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(required=False, label=gettext_lazy("Remove the logo"))

    def clean_accent(self) -> str:
        return branding.check_accent(self.cleaned_data.get("accent") or "")

    def clean_logo(self) -> UploadedFile | None:
        logo = self.cleaned_data.get("logo")
        if logo:
            branding.logo_type(logo)
        return logo or None
