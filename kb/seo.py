"""What search engines read of the help center: the sitemap, robots.txt and each article's
meta description, canonical URL, OpenGraph tags and Article structured data (JSON-LD).

Only published public articles are ever named here: `public_articles` is the one query,
and an article page carries these tags only when the article is one of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from kb.models import Article, ArticleStatus, Visibility

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


def description(article: Article) -> str:
    """The article's first words as plain text, cut at a word within DESCRIPTION_LENGTH."""
    text = " ".join(article.body_text.split())
    return Truncator(text).chars(DESCRIPTION_LENGTH, truncate="…")


@dataclass(frozen=True)
class ArticleMeta:
    description: str
    canonical_url: str
    json_ld: SafeString


def article_meta(article: Article, site_name: str) -> ArticleMeta | None:
    """The head tags of an article page, or None for a draft or an internal article."""
    if not is_indexable(article):
        return None
    url = absolute(article.get_absolute_url())
    summary = description(article)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": summary,
        "url": url,
        "mainEntityOfPage": url,
        "dateModified": article.updated_at.isoformat(),
        "publisher": {"@type": "Organization", "name": site_name},
    }
    if article.published_at:
        data["datePublished"] = article.published_at.isoformat()
    text = json.dumps(data, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    # Safe: JSON with every "<", ">" and "&" escaped cannot leave its script element.
    return ArticleMeta(summary, url, mark_safe(text))


class ArticleSitemap(Sitemap):
    """Published public articles with their last change. One language for now: when
    articles have translations, set `i18n`, `languages` and `alternates` (Django's
    sitemap then lists each language's address with hreflang alternates)."""

    changefreq = "weekly"

    def items(self) -> QuerySet[Article]:
        return public_articles().only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, item: Article) -> Any:
        return item.updated_at

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme


SITEMAPS = {"articles": ArticleSitemap}

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
