"""The public help center: works without signing in; agents also read internal articles."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.branding import product_name
from helpdesk.http import HtmxRequest
from kb import selectors, seo, services
from kb.access import get_article_for
from kb.models import Article, Category, SearchSource
from kb.search import search_articles, search_translations
from tickets.languages import in_customer_language, supported_language
from tickets.models import User
from tickets.permissions import is_agent

SEARCH_PAGE_SIZE = 10


def _reader(request: HttpRequest) -> User | None:
    """The signed-in reader, or None for anyone else (the public reading rule)."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


@require_GET
@in_customer_language
def home(request: HttpRequest) -> HttpResponse:
    reader = _reader(request)
    return render(
        request,
        "kb/home.html",
        {
            "categories": selectors.help_center_categories(reader),
            "popular": selectors.popular_articles(reader),
        },
    )


@require_GET
@in_customer_language
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    # The reader's language first, with its own stemmer; English, the articles' own
    # language, when no translation matches.
    result = search_translations(
        query, user=_reader(request), language=get_language(), limit=SEARCH_PAGE_SIZE
    )
    if not result.hits:
        result = search_articles(query, user=_reader(request), limit=SEARCH_PAGE_SIZE)
    if result.query:
        services.log_search(
            result.query,
            source=SearchSource.HELP_CENTER,
            result_count=len(result),
            user=_reader(request),
        )
    return render(request, "kb/search.html", {"result": result, "query": result.query})


@require_GET
@in_customer_language
def category(request: HttpRequest, slug: str) -> HttpResponse:
    chosen = get_object_or_404(Category, slug=slug)
    sections = list(selectors.category_sections(chosen, _reader(request)))
    return render(request, "kb/category.html", {"category": chosen, "sections": sections})


@require_GET
@in_customer_language
def article(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    reader = _reader(request)
    shown = get_article_for(reader, pk)
    # `?lang=de` names the language in the address (the sitemap's and hreflang's links):
    # it wins over the reader's own.
    requested = supported_language(request.GET.get("lang", ""))
    if slug != shown.slug:
        query = f"?lang={requested}" if requested else ""
        return HttpResponseRedirect(f"{shown.get_absolute_url()}{query}", status=301)
    if not is_agent(reader):
        services.record_view(shown)
    if not requested:
        return _article_page(request, shown, reader)
    with translation.override(requested):
        request.LANGUAGE_CODE = requested
        return _article_page(request, shown, reader)


def _article_page(request: HttpRequest, shown: Article, reader: User | None) -> HttpResponse:
    translations = {t.language: t for t in shown.translations.all() if t.is_published}
    language = get_language()
    return render(
        request,
        "kb/article.html",
        {
            "article": shown,
            # The text in the reader's language when it has one, and the others offered.
            "text": translations.get(language, shown),
            "languages": sorted({"en", *translations} - {language}),
            "related": selectors.related_articles(shown, reader),
            "voted": request.session.get(f"kb-voted-{shown.pk}"),
            "may_write": services.may_write(reader),
            "seo": seo.article_meta(
                shown, product_name(), text=translations.get(language), translations=translations
            ),
        },
    )


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(seo.robots_txt(), content_type="text/plain; charset=utf-8")


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
        coerce=lambda value: value == "yes",
    )
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


@require_POST
@in_customer_language
def feedback(request: HtmxRequest, pk: int) -> HttpResponse:
    shown = get_article_for(_reader(request), pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, "kb/article.html#feedback", {"article": shown, "form": form})
        messages.error(request, _("Please choose Yes or No."))
        return redirect(shown)
    voter_key = (
        f"user:{request.user.pk}"
        if request.user.is_authenticated
        else services.anonymous_voter(request.META.get("REMOTE_ADDR", ""))
    )
    services.record_feedback(
        shown,
        helpful=form.cleaned_data["helpful"],
        comment=form.cleaned_data["comment"],
        voter_key=voter_key,
        user=_reader(request),
    )
    request.session[f"kb-voted-{shown.pk}"] = "yes" if form.cleaned_data["helpful"] else "no"
    context = {
        "article": shown,
        "voted": request.session[f"kb-voted-{shown.pk}"],
        "commented": bool(form.cleaned_data["comment"].strip()),
    }
    if request.htmx:
        return render(request, "kb/article.html#feedback", context)
    messages.success(request, _("Thanks for your feedback!"))
    return redirect(shown)
