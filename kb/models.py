"""Knowledge base: categories, sections, articles, feedback and the search log.

Articles are written in Markdown by agents; `body_html` holds the rendered, nh3-sanitized
HTML and `body_text` its plain text, which the search vector and the snippets read.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Customer, Ticket, User
from tickets.permissions import is_agent

if TYPE_CHECKING:
    from django.db.models import QuerySet


class Category(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:category", args=[self.slug])


class Section(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="sections")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="kb_section_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category} / {self.name}"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (agents only)")


class ArticleQuerySet(models.QuerySet["Article"]):
    def readable_by(self, user: User | None) -> ArticleQuerySet:
        """Published articles a reader may see: agents also read internal ones.

        Drafts are only listed on the agent editing pages, never through this rule.
        """
        published = self.filter(status=ArticleStatus.PUBLISHED)
        if is_agent(user):
            return published
        return published.filter(visibility=Visibility.PUBLIC)


class Article(models.Model):
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    title = models.CharField(max_length=200)
    # The URL carries the id and the slug; the id is what resolves, so a renamed article
    # keeps working at its old address (redirected to the new slug).
    slug = models.SlugField(max_length=200)
    # Forms and the API refuse a longer body; the longest renders in well under a second.
    body_markdown = models.TextField(blank=True, max_length=100_000)
    body_html = models.TextField(blank=True, help_text="Rendered and sanitized; safe to show.")
    body_text = models.TextField(blank=True, help_text="Plain text: search and snippets.")
    status = models.CharField(
        max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="kb_articles"
    )
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    related = models.ManyToManyField("self", symmetrical=False, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    not_helpful_count = models.PositiveIntegerField(default=0)
    # Title words alone: title matches outrank body matches, and are found through their
    # own index without reading every article that mentions a common word in its body.
    title_vector = models.GeneratedField(
        expression=SearchVector("title", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("body_text", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["section__position", "title"]
        indexes = [
            # Help-center search: `search_vector @@ query` over published articles.
            GinIndex(fields=["search_vector"], name="kb_article_search"),
            # Search, first tier: `title_vector @@ query`.
            GinIndex(fields=["title_vector"], name="kb_article_title_search"),
            # Category pages and the agent list: a section's published articles.
            models.Index(fields=["section", "status", "visibility"], name="kb_article_section"),
        ]
        # The trigram index on title (typo-tolerant search) is created by migration 0002
        # only where pg_trgm is available, so it is not declared here.

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:article", args=[self.pk, self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def helpfulness(self) -> float | None:
        votes = self.helpful_count + self.not_helpful_count
        return self.helpful_count / votes if votes else None


# The text-search configuration of each translation's language (PostgreSQL's stemmers).
SEARCH_CONFIGS = {"en": "english", "de": "german", "fr": "french", "es": "spanish"}
# The languages an article (written in English) is translated into.
TRANSLATION_LANGUAGES = [code for code in SEARCH_CONFIGS if code != "en"]


def _translation_vector(field: str, weight: str | None = None) -> models.Case:
    """`field`'s search vector in its row's language: one constant configuration per
    branch, so the generated column stays immutable."""
    return models.Case(
        *[
            models.When(language=code, then=SearchVector(field, config=config, weight=weight))
            for code, config in SEARCH_CONFIGS.items()
        ],
        default=SearchVector(field, config="simple", weight=weight),
        output_field=SearchVectorField(),
    )


class ArticleTranslation(models.Model):
    """An article in another language: shown in the help center to readers of that
    language (with a switcher between the languages it has), and searched with that
    language's text-search configuration. The article keeps its section, visibility
    and feedback; the translation has its own title, body and status."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10, choices=[(c, c) for c in SEARCH_CONFIGS])
    title = models.CharField(max_length=200)
    body_markdown = models.TextField(blank=True, max_length=100_000)
    body_html = models.TextField(blank=True, help_text="Rendered and sanitized; safe to show.")
    body_text = models.TextField(blank=True, help_text="Plain text: search and snippets.")
    status = models.CharField(
        max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    updated_at = models.DateTimeField(default=timezone.now)
    title_vector = models.GeneratedField(
        expression=_translation_vector("title"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    search_vector = models.GeneratedField(
        expression=models.expressions.CombinedExpression(
            _translation_vector("title", "A"), "||", _translation_vector("body_text", "B")
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language"], name="kb_translation_one_per_language"
            )
        ]
        indexes = [GinIndex(fields=["search_vector"], name="kb_translation_search")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleFeedback(models.Model):
    """A "Was this helpful?" vote, with an optional comment shown to agents."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One vote per reader and article: a second click changes the vote.
    voter_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["article", "voter_key"], name="kb_feedback_one_vote")
        ]
        indexes = [
            # The agent's article page: latest comments first.
            models.Index(fields=["article", "-created_at"], name="kb_feedback_article"),
        ]

    def __str__(self) -> str:
        return f"{'+' if self.helpful else '-'} on {self.article_id}"


class SearchSource(models.TextChoices):
    HELP_CENTER = "help", _("Help center")
    REQUEST_FORM = "request", _("Request form")
    AGENT = "agent", _("Agent reply box")
    API = "api", "API"


class SearchQueryLogQuerySet(models.QuerySet["SearchQueryLog"]):
    def unanswered(self) -> QuerySet[SearchQueryLog]:
        return self.filter(result_count=0)


class SearchQueryLog(models.Model):
    """One search a person ran; zero-result rows are the knowledge-base gap report."""

    query = models.CharField(max_length=200)
    # Lower-cased, whitespace-collapsed: what the gap report groups by.
    normalized = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=SearchSource.choices)
    result_count = models.PositiveIntegerField()
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    objects = SearchQueryLogQuerySet.as_manager()

    class Meta:
        indexes = [
            # Gap report: unanswered searches in a window, grouped by normalized text.
            models.Index(
                fields=["at", "normalized"],
                condition=Q(result_count=0),
                name="kb_search_unanswered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query!r} ({self.result_count})"


class RequestFormVisit(models.Model):
    """One customer visit to the portal's request form, from opening it to filing (or leaving).

    A visit where the customer opened a suggested article and never filed is a
    deflection: the article answered the question before a ticket was needed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, null=True, on_delete=models.SET_NULL, related_name="request_form_visits"
    )
    started_at = models.DateTimeField(default=timezone.now)
    suggestions_shown = models.PositiveIntegerField(default=0)
    suggestions_opened = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Kept from when the portal owned it (kb/migrations/0004_request_form_visit.py).
        db_table = "portal_requestformvisit"
        indexes = [
            # Deflection rate over a window of visits.
            models.Index(fields=["started_at"], name="portal_visit_started"),
        ]
        constraints = [
            # A ticket is filed from at most one visit.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False), name="portal_visit_ticket"
            )
        ]

    def __str__(self) -> str:
        return f"request form visit {self.id}"

    @property
    def deflected(self) -> bool:
        return self.first_opened_at is not None and self.ticket_id is None
