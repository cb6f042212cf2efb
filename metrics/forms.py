"""The survey form: the clicked score comes preselected; only a POST of this form records."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrics.surveys import SurveyLink


def _scale(low: int, high: int, question: str, *, required: bool = True) -> forms.Field:
    return forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(low, high + 1)],
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect,
        label=question,
        error_messages={
            "required": gettext_lazy("Choose a score from %(low)s to %(high)s.")
            % {"low": low, "high": high}
        },
    )


class SurveyForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": gettext_lazy("Anything you want to tell us?")}
        ),
        label=gettext_lazy("Comment (optional)"),
    )

    def __init__(self, link: SurveyLink, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link = link
        if link.kind == "nps":
            self.fields["nps"] = _scale(
                0, 10, _("How likely are you to recommend us to a friend or colleague?")
            )
        else:
            self.fields["csat"] = _scale(1, 5, _("How satisfied were you with the help you got?"))
            if link.asks_ces:
                self.fields["ces"] = _scale(
                    1, 7, _("How easy was it to get your issue resolved?"), required=False
                )
        self.order_fields(["nps", "csat", "ces", "comment"])

    def scores(self) -> dict[str, int]:
        return {
            kind: self.cleaned_data[kind]
            for kind in ("csat", "ces", "nps")
            if self.cleaned_data.get(kind) is not None
        }
