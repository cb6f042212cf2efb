"""The branding page's form: its fields checked by the rules of console.branding."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from console import branding


class BrandingForm(forms.Form):
    product_name = forms.CharField(
        max_length=60, help_text="Shown in the page headers and in the mail customers get."
    )
    help_center_title = forms.CharField(max_length=100, label="Help-center title")
    accent = forms.CharField(
        max_length=7,
        required=False,
        label="Accent colour",
        help_text="#rrggbb, dark enough for white text on it (contrast 4.5:1). Empty: the default.",
        widget=forms.TextInput(attrs={"placeholder": "#4f46e5", "spellcheck": "false"}),
    )
    logo = forms.FileField(
        required=False,
        help_text="PNG, JPEG or WebP, at most 512 KB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    def clean_accent(self) -> str:
        return branding.check_accent(self.cleaned_data.get("accent") or "")

    def clean_logo(self) -> UploadedFile | None:
        logo = self.cleaned_data.get("logo")
        if logo:
            branding.logo_type(logo)
        return logo or None
