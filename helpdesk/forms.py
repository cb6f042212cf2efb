"""A service's refusal shown on the form that asked for the change."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms


def add_errors(form: forms.BaseForm, errors: Mapping[str, str] | Mapping[str | None, str]) -> None:
    """Each refusal on its field when the form has that field, else on the whole form."""
    for name, text in errors.items():
        form.add_error(name if name in form.fields else None, text)
