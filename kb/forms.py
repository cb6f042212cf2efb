from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kb.models import Article, ArticleStatus, ArticleTranslation, Section, Visibility

# An article's text and a translation's: the same fields, read and written alike.
TEXT_LABELS = {
    "title": _("Title"),
    "body_markdown": _("Body (Markdown)"),
    "status": _("Status"),
}
TEXT_WIDGETS = {
    "body_markdown": forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
    "status": forms.RadioSelect,
}


class ArticleForm(forms.ModelForm):
    related = forms.ModelMultipleChoiceField(
        queryset=Article.objects.none(),
        required=False,
        label=_("Related articles"),
        help_text=_("Shown under the article as further reading."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Article
        fields = ["title", "section", "body_markdown", "status", "visibility"]
        labels = {**TEXT_LABELS, "section": _("Section"), "visibility": _("Visibility")}
        widgets = {**TEXT_WIDGETS, "visibility": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["section"]
        ).queryset = Section.objects.select_related("category").order_by(
            "category__position", "category__name", "position", "name"
        )
        if self.instance.pk:
            # Offered: published articles of the same category, plus those already linked;
            # a list of every article would be unusable in a large knowledge base.
            linked = self.instance.related.all()
            self.initial.setdefault("related", list(linked))
            cast(forms.ModelMultipleChoiceField, self.fields["related"]).queryset = (
                Article.objects.filter(
                    Q(
                        status=ArticleStatus.PUBLISHED,
                        section__category_id=self.instance.section.category_id,
                    )
                    | Q(pk__in=linked.values("pk"))
                )
                .exclude(pk=self.instance.pk)
                .order_by("title")
            )
        else:
            del self.fields["related"]
        self.fields["title"].widget.attrs["autofocus"] = True

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if len(title) < 3:
            raise forms.ValidationError(_("A title needs at least 3 characters."))
        return title


class TranslationForm(forms.ModelForm):
    """An article's text in another language; the article keeps its section and visibility."""

    class Meta:
        model = ArticleTranslation
        fields = ["title", "body_markdown", "status"]
        labels = TEXT_LABELS
        widgets = TEXT_WIDGETS

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if len(title) < 3:
            raise forms.ValidationError(_("A title needs at least 3 characters."))
        return title


class ArticleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=_("Title contains"))
    status = forms.ChoiceField(
        required=False, choices=[("", _("Any status")), *ArticleStatus.choices]
    )
    visibility = forms.ChoiceField(
        required=False, choices=[("", _("Any visibility")), *Visibility.choices]
    )
