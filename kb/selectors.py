"""Named queries behind the help-center and knowledge-base pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from kb.models import (
    TRANSLATION_LANGUAGES,
    Article,
    ArticleStatus,
    ArticleTranslation,
    Category,
    Section,
    Visibility,
)
from tickets.models import User
from tickets.permissions import is_agent


def _readable_filter(user: User | None, prefix: str = "") -> Q:
    rule = Q(**{f"{prefix}status": ArticleStatus.PUBLISHED})
    if not is_agent(user):
        rule &= Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    return rule


def help_center_categories(user: User | None) -> QuerySet[Category]:
    """Categories holding at least one article the reader may see, with that count."""
    return (
        Category.objects.annotate(
            article_count=Count(
                "sections__articles", filter=_readable_filter(user, "sections__articles__")
            )
        )
        .filter(article_count__gt=0)
        .order_by("position", "name")
    )


def category_sections(category: Category, user: User | None) -> QuerySet[Section]:
    """A category's sections, each with its readable articles (two queries in all)."""
    articles = Article.objects.readable_by(user).order_by("title")
    return (
        category.sections.filter(_readable_filter(user, "articles__"))
        .distinct()
        .order_by("position", "name")
        .prefetch_related(Prefetch("articles", queryset=articles, to_attr="readable_articles"))
    )


def popular_articles(user: User | None, limit: int = 6) -> QuerySet[Article]:
    return Article.objects.readable_by(user).order_by("-view_count", "title")[:limit]


def related_articles(article: Article, user: User | None, limit: int = 5) -> list[Article]:
    """Articles the author linked, topped up with others from the same section."""
    readable = Article.objects.readable_by(user).exclude(pk=article.pk)
    chosen = list(readable.filter(pk__in=article.related.values("pk")).order_by("title")[:limit])
    if len(chosen) < limit:
        chosen += list(
            readable.filter(section_id=article.section_id)
            .exclude(pk__in=[a.pk for a in chosen])
            .order_by("-view_count", "title")[: limit - len(chosen)]
        )
    return chosen


def agent_articles(
    *, status: str = "", visibility: str = "", query: str = "", category: str = ""
) -> QuerySet[Article]:
    """Every article, drafts included, for the agent list: one query with its section."""
    articles = Article.objects.select_related("section__category", "updated_by").order_by(
        "-updated_at", "-pk"
    )
    if status:
        articles = articles.filter(status=status)
    if visibility:
        articles = articles.filter(visibility=visibility)
    if category:
        articles = articles.filter(section__category__slug=category)
    if query:
        articles = articles.filter(title__icontains=query)
    return articles


@dataclass(frozen=True)
class TranslationRow:
    language: str
    translation: ArticleTranslation | None


def translation_rows(article: Article) -> list[TranslationRow]:
    """Each language an article can be translated into, with its translation if any."""
    existing = {t.language: t for t in article.translations.only("language", "status", "title")}
    return [TranslationRow(code, existing.get(code)) for code in TRANSLATION_LANGUAGES]
