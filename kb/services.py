"""Writing articles (and who may), counting views, recording votes."""

from __future__ import annotations

import hashlib
import hmac
import html
from typing import TYPE_CHECKING, Any

import nh3
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from helpdesk.markdown import render_markdown_html
from kb.models import (
    TRANSLATION_LANGUAGES,
    Article,
    ArticleFeedback,
    ArticleStatus,
    ArticleTranslation,
    SearchQueryLog,
)
from kb.search import normalize_query
from tickets.models import User
from tickets.permissions import is_agent, is_light_agent
from tickets.services import NotPermitted

if TYPE_CHECKING:
    from tickets.permissions import Caller

WRITER_REFUSAL = gettext_lazy(
    "Light agents read the knowledge base: they cannot write, edit or publish articles."
)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
}


def render_markdown(source: str) -> tuple[str, str]:
    """Markdown to (sanitized HTML, plain text), with the tags an article needs."""
    safe_html = render_markdown_html(
        source,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
    )
    text = html.unescape(nh3.clean(safe_html, tags=set()))
    return safe_html, " ".join(text.split())


def may_write(user: Caller) -> bool:
    """Who writes, edits and publishes articles: staff, except light agents."""
    return is_agent(user) and not is_light_agent(user)


def check_writer(user: Caller) -> None:
    """NotPermitted (a 403 at every door) unless `user` may write articles."""
    if not may_write(user):
        raise NotPermitted(str(WRITER_REFUSAL), field="role")


@transaction.atomic
def save_article(
    article: Article, *, editor: User, related: list[Article] | None = None, **fields: Any
) -> Article:
    """Create or update an article from the editing form's cleaned data."""
    check_writer(editor)
    for name, value in fields.items():
        setattr(article, name, value)
    article.body_html, article.body_text = render_markdown(article.body_markdown)
    if not article.slug:
        article.slug = slugify(article.title)[:200] or "article"
    now = timezone.now()
    if article.pk is None:
        article.author = article.author or editor
        article.created_at = now
    article.updated_by = editor
    article.updated_at = now
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.save()
    if related is not None:
        article.related.set([other for other in related if other.pk != article.pk])
    return article


@transaction.atomic
def save_translation(
    article: Article,
    language: str,
    *,
    editor: User,
    title: str,
    body_markdown: str,
    status: str = ArticleStatus.DRAFT,
) -> ArticleTranslation:
    """Create or update `article`'s translation into `language`, rendered and sanitized
    like the article itself. Raises ValueError for a language the desk does not speak."""
    check_writer(editor)
    if language not in TRANSLATION_LANGUAGES:
        raise ValueError(f"“{language}” is not a language articles are translated into.")
    body_html, body_text = render_markdown(body_markdown)
    translation, _ = ArticleTranslation.objects.update_or_create(
        article=article,
        language=language,
        defaults={
            "title": title.strip()[:200],
            "body_markdown": body_markdown,
            "body_html": body_html,
            "body_text": body_text,
            "status": status,
            "updated_at": timezone.now(),
        },
    )
    return translation


def record_view(article: Article) -> None:
    # An UPDATE with F() so concurrent readers never lose a count.
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def anonymous_voter(address: str) -> str:
    """The voter key of a reader who is not signed in: their network address, keyed with
    the secret and never stored as it is. A session was the key before, and a new
    session was one request away, so one person could vote any number of times; an
    office behind one address now votes once per article, as a person would."""
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256)
    return f"address:{digest.hexdigest()[:40]}"


@transaction.atomic
def record_feedback(
    article: Article, *, helpful: bool, voter_key: str, comment: str = "", user: User | None = None
) -> ArticleFeedback:
    """One vote per reader: a second vote replaces the first and the counters follow."""
    previous = (
        ArticleFeedback.objects.select_for_update()
        .filter(article=article, voter_key=voter_key)
        .first()
    )
    counters: dict[str, Any] = {}
    if previous is None:
        feedback = ArticleFeedback.objects.create(
            article=article,
            helpful=helpful,
            comment=comment.strip(),
            user=user if user and user.is_authenticated else None,
            voter_key=voter_key,
        )
        field = "helpful_count" if helpful else "not_helpful_count"
        counters[field] = F(field) + 1
    else:
        feedback = previous
        if previous.helpful != helpful:
            old, new = (
                ("not_helpful_count", "helpful_count")
                if helpful
                else ("helpful_count", "not_helpful_count")
            )
            counters = {old: F(old) - 1, new: F(new) + 1}
        feedback.helpful = helpful
        if comment.strip():
            feedback.comment = comment.strip()
        feedback.created_at = timezone.now()
        feedback.save(update_fields=["helpful", "comment", "created_at"])
    if counters:
        Article.objects.filter(pk=article.pk).update(**counters)
    return feedback


def log_search(query: str, *, source: str, result_count: int, user: User | None = None) -> None:
    """Remember a search; the ones that found nothing feed the knowledge-base gap report."""
    text = normalize_query(query)
    if not text:
        return
    SearchQueryLog.objects.create(
        query=text,
        normalized=text.lower(),
        source=source,
        result_count=result_count,
        user=user if user is not None and user.is_authenticated else None,
    )
