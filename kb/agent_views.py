"""Agent side of the knowledge base: the article list, editing, insights, reply-box search."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kb import selectors, services
from kb.access import get_article_for
from kb.forms import ArticleFilterForm, ArticleForm, TranslationForm
from kb.models import TRANSLATION_LANGUAGES, Article, ArticleTranslation
from kb.reports import knowledge_gap_report
from kb.search import search_articles
from tickets.permissions import AuthedRequest, agent_required

REPLY_SUGGESTIONS = 6


def language_name(code: str) -> str:
    return str(get_language_info(code)["name_translated"])


@agent_required
@require_GET
def article_list(request: AuthedRequest) -> HttpResponse:
    """Every article; light agents read them (the edit links are for writers)."""
    form = ArticleFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    articles = selectors.agent_articles(
        status=filters.get("status", ""),
        visibility=filters.get("visibility", ""),
        query=filters.get("q", ""),
    )
    page = Paginator(articles, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "kb/manage/list.html",
        {
            "form": form,
            "page": page,
            "params": params.urlencode(),
            "may_write": services.may_write(request.user),
        },
    )


@agent_required
@require_http_methods(["GET", "POST"])
def article_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    services.check_writer(request.user)  # light agents: a 403 that says why
    article = get_article_for(request.user, pk, edit=True) if pk else Article()
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        related = data.pop("related", None)
        services.save_article(
            article,
            editor=request.user,
            related=list(related) if related is not None else None,
            **data,
        )
        messages.success(request, _("Saved “%(title)s”.") % {"title": article.title})
        return redirect("kb:edit", pk=article.pk)
    feedback = article.feedback.select_related("user")[:50] if article.pk else []
    context = {
        "form": form,
        "article": article,
        "feedback": feedback,
        "may_write": True,
        "translations": selectors.translation_rows(article) if article.pk else [],
    }
    return render(request, "kb/manage/edit.html", context)


@agent_required
@require_http_methods(["GET", "POST"])
def translation_edit(request: AuthedRequest, pk: int, language: str) -> HttpResponse:
    """An article's text in one of the desk's other languages: written, then published."""
    services.check_writer(request.user)
    if language not in TRANSLATION_LANGUAGES:
        raise Http404("No such language")
    article = get_article_for(request.user, pk, edit=True)
    translation = ArticleTranslation.objects.filter(article=article, language=language).first()
    form = TranslationForm(
        request.POST or None,
        instance=translation or ArticleTranslation(article=article, language=language),
    )
    if request.method == "POST" and form.is_valid():
        services.save_translation(article, language, editor=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("Saved the %(language)s translation of “%(title)s”.")
            % {"language": language_name(language), "title": article.title},
        )
        return redirect("kb:article_language", pk=article.pk, language=language)
    context = {
        "form": form,
        "article": article,
        "language": language,
        "language_name": language_name(language),
        "translation": translation,
        "may_write": True,
    }
    return render(request, "kb/manage/translation.html", context)


@agent_required
@require_GET
def gaps(request: AuthedRequest) -> HttpResponse:
    try:
        days = max(1, min(365, int(request.GET.get("days", "30"))))
    except ValueError:
        days = 30
    end = timezone.now()
    report = knowledge_gap_report(end - timedelta(days=days), end)
    context = {"report": report, "days": days, "may_write": services.may_write(request.user)}
    return render(request, "kb/manage/gaps.html", context)


@agent_required
@require_GET
def reply_suggestions(request: AuthedRequest) -> HttpResponse:
    """The reply box's article search: an htmx partial with insert-link/insert-text buttons.

    Not logged as a search: it runs on every keystroke, and the gap report is about
    what customers ask.
    """
    query = request.GET.get("kbq", "")
    result = search_articles(query, user=request.user, limit=REPLY_SUGGESTIONS)
    return render(
        request,
        "kb/reply_suggestions.html",
        {"result": result, "site_url": settings.SITE_URL},
    )


@agent_required
@require_POST
def preview(request: AuthedRequest) -> HttpResponse:
    """The editor's live preview: the Markdown rendered and sanitized exactly as saving
    would (services.render_markdown), an htmx partial."""
    services.check_writer(request.user)
    source = request.POST.get("body_markdown", "")
    limit = Article._meta.get_field("body_markdown").max_length or 0
    if len(source) > limit:
        return render(request, "kb/manage/_preview.html", {"too_long": limit})
    body_html, _ = services.render_markdown(source)
    return render(request, "kb/manage/_preview.html", {"body_html": body_html})
