"""What search engines read of the help center: the sitemap, robots.txt and each article's
meta description, canonical URL, OpenGraph tags and Article structured data (JSON-LD).

Only published public articles are ever named here: `public_articles` is the one query,
and an article page carries these tags only when the article is one of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from kb.models import Article, ArticleStatus, ArticleTranslation, Visibility

ENGLISH = "en"

DESCRIPTION_LENGTH = 160

# Inside <script>, "</script>" or "<!--" in a title would end or confuse the element: the
# characters HTML gives meaning to are written as JSON escapes, which JSON readers decode.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def public_articles() -> QuerySet[Article]:
    """Every article anyone may read without signing in: published and public."""
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)


def is_indexable(article: Article) -> bool:
    return article.status == ArticleStatus.PUBLISHED and article.visibility == Visibility.PUBLIC


def absolute(path: str) -> str:
    """The public address of a path, from SITE_URL, whatever host the request came by."""
    return f"{settings.SITE_URL}{path}"


def description(article: Article | ArticleTranslation) -> str:
    """The article's first words as plain text, cut at a word within DESCRIPTION_LENGTH."""
    text = " ".join(article.body_text.split())
    return Truncator(text).chars(DESCRIPTION_LENGTH, truncate="…")


def translation_path(article: Article, language: str) -> str:
    """The address of an article in one language: the article's own for English (its
    language), with `?lang=` for a translation (kb.views.article reads it)."""
    path = article.get_absolute_url()
    return path if language == ENGLISH else f"{path}?lang={language}"


@dataclass(frozen=True)
class ArticleMeta:
    description: str
    canonical_url: str
    json_ld: SafeString
    # (hreflang, address) of every language the article is published in, and x-default.
    alternates: tuple[tuple[str, str], ...] = ()


def article_meta(
    article: Article,
    site_name: str,
    *,
    text: Article | ArticleTranslation | None = None,
    translations: Iterable[str] = (),
) -> ArticleMeta | None:
    """The head tags of an article page, or None for a draft or an internal article.
    `text` is what the page shows (a published translation or the article itself) and
    `translations` the languages the article is published in besides English."""
    if not is_indexable(article):
        return None
    text = text or article
    language = text.language if isinstance(text, ArticleTranslation) else ENGLISH
    url = absolute(translation_path(article, language))
    summary = description(text)
    alternates = tuple(
        (code, absolute(translation_path(article, code)))
        for code in [ENGLISH, *sorted(set(translations) - {ENGLISH})]
    )
    if len(alternates) > 1:
        alternates += (("x-default", absolute(article.get_absolute_url())),)
    else:
        alternates = ()
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": text.title,
        "description": summary,
        "inLanguage": language,
        "url": url,
        "mainEntityOfPage": url,
        "dateModified": max(article.updated_at, text.updated_at).isoformat(),
        "publisher": {"@type": "Organization", "name": site_name},
    }
    if article.published_at:
        data["datePublished"] = article.published_at.isoformat()
    json_text = json.dumps(data, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    # Safe: JSON with every "<", ">" and "&" escaped cannot leave its script element.
    return ArticleMeta(summary, url, mark_safe(json_text), alternates)


class ArticleSitemap(Sitemap):
    """Published public articles with their last change, in English (their language).

    The help center's addresses carry no language prefix, so Django's `i18n` sitemap
    (which reverses each URL under every language) does not fit: each translation is
    listed by TranslationSitemap at its `?lang=` address."""

    changefreq = "weekly"

    def items(self) -> QuerySet[Article]:
        return public_articles().only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, item: Article) -> Any:
        return item.updated_at

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme


def public_translations() -> QuerySet[ArticleTranslation]:
    """Every published translation of a published public article."""
    return ArticleTranslation.objects.filter(
        status=ArticleStatus.PUBLISHED,
        article__status=ArticleStatus.PUBLISHED,
        article__visibility=Visibility.PUBLIC,
    )


class TranslationSitemap(ArticleSitemap):
    """Each published translation of a published public article, at its language's
    address, with its own last change."""

    def items(self) -> QuerySet[ArticleTranslation]:  # type: ignore[override]
        return (
            public_translations()
            .select_related("article")
            .only("language", "updated_at", "article__id", "article__slug")
            .order_by("article_id", "language")
        )

    def location(self, item: ArticleTranslation) -> str:  # type: ignore[override]
        return translation_path(item.article, item.language)

    def lastmod(self, item: ArticleTranslation) -> Any:  # type: ignore[override]
        return item.updated_at


SITEMAPS = {"articles": ArticleSitemap, "translations": TranslationSitemap}

# The agent workspace is at "/" and the portal, the settings area and the API beside it:
# everything is closed to crawlers but the help center and its files. Crawlers take the
# longest matching rule, so the search pages (thin, endless) stay out too.
ROBOTS_RULES = (
    "Allow: /help/",
    "Allow: /static/",
    "Allow: /sitemap.xml",
    "Disallow: /help/search/",
    "Disallow: /portal/",
    "Disallow: /",
)


def robots_txt() -> str:
    return "\n".join(
        ["User-agent: *", *ROBOTS_RULES, "", f"Sitemap: {absolute('/sitemap.xml')}", ""]
    )
