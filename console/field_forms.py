"""The custom-field settings form: it reads the shape (choices one per line) and leaves
the rules to tickets.services.save_definition, whose refusals it shows per field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import FieldDefinition

CHOICES_HELP = gettext_lazy(
    "One per line, in the order they are offered. For choice and multiple choice only."
)


class FieldDefinitionForm(forms.ModelForm):
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=CHOICES_HELP,
    )

    class Meta:
        model = FieldDefinition
        fields = ["label", "key", "type", "applies_to", "choices", "required_to_solve"]
        labels = {
            "label": gettext_lazy("Label"),
            "key": gettext_lazy("Key"),
            "type": gettext_lazy("Type"),
            "applies_to": gettext_lazy("Applies to"),
            "required_to_solve": gettext_lazy("Required to solve"),
        }
        help_texts = {
            "required_to_solve": gettext_lazy(
                "Tickets only: an agent cannot solve the ticket while it is empty."
            ),
            "key": gettext_lazy(
                "Letters, digits, - and _; used in the API, imports and filters "
                "(field.<key>=). Fixed once saved."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("key", "type", "applies_to"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once saved: archive and define a new field.")
        self.initial["choices"] = "\n".join(self.instance.choices or [])

    def clean_choices(self) -> list[str]:
        lines = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in lines.splitlines() if line.strip()]

    def validate_unique(self) -> None:
        """The service says a key is taken, in its words."""

    def validate_constraints(self) -> None:
        """Likewise."""
