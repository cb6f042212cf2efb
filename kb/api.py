"""`GET /api/v1/kb/articles/?q=`: published articles the caller may read, ranked.

Without `q` the list is every readable article, newest change first, cursor-paginated.
With `q` it is the same search the help center and the reply box use (kb.search): the
best `page_size` matches by rank, each with its highlighted snippet.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api import BadCursorPagination
from kb.access import get_article_for
from kb.models import Article, ArticleTranslation, SearchSource
from kb.search import search_articles
from kb.seo import absolute, translation_path
from kb.services import log_search
from tickets.models import User

MAX_SEARCH_RESULTS = 50


class ArticleSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="section.category.name", read_only=True)
    section = serializers.CharField(source="section.name", read_only=True)
    url = serializers.SerializerMethodField()
    author = serializers.EmailField(source="author.email", read_only=True, default=None)

    class Meta:
        model = Article
        fields = [
            "id", "title", "slug", "url", "category", "section", "visibility",
            "author", "updated_at", "view_count", "helpful_count", "not_helpful_count",
        ]  # fmt: skip

    def get_url(self, article: Article) -> str:
        return f"{settings.SITE_URL}{article.get_absolute_url()}"


class TranslationSerializer(serializers.ModelSerializer):
    """A published translation of the article: its language's text and address."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = ArticleTranslation
        fields = ["language", "title", "url", "updated_at", "body_markdown", "body_html"]

    def get_url(self, translation: ArticleTranslation) -> str:
        return absolute(translation_path(translation.article, translation.language))


class ArticleDetailSerializer(ArticleSerializer):
    translations = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body_markdown", "body_html", "translations"]

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, article: Article) -> list[dict[str, Any]]:
        published = [t for t in article.translations.all() if t.is_published]
        for translation in published:
            translation.article = article  # the url needs it; no query per translation
        ordered = sorted(published, key=lambda t: t.language)
        return list(TranslationSerializer(ordered, many=True, context=self.context).data)


class ArticleHitSerializer(ArticleSerializer):
    """A search result: the article plus its rank and snippet (HTML, <mark> only)."""

    rank = serializers.FloatField(read_only=True)
    snippet = serializers.CharField(read_only=True)

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "rank", "snippet"]


class ArticleCursor(BadCursorPagination):
    # Served by the primary key and a sort over the readable articles.
    ordering = ("-updated_at", "-id")
    page_size = 20


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Search words; results ranked by relevance."),
        ]
    )
)
class ArticleViewSet(viewsets.ReadOnlyModelViewSet):
    """Knowledge-base articles. Anyone may read public ones; agents also internal ones."""

    serializer_class = ArticleSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = ArticleCursor
    lookup_value_regex = r"[0-9]+"

    def _reader(self) -> User | None:
        user = self.request.user
        return user if isinstance(user, User) and user.is_authenticated else None

    def get_queryset(self) -> QuerySet[Article]:
        return Article.objects.readable_by(self._reader()).select_related(
            "section__category", "author"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ArticleDetailSerializer if self.action == "retrieve" else ArticleSerializer

    def get_object(self) -> Article:
        article = get_article_for(self._reader(), self.kwargs["pk"])
        if not article.is_published:
            raise exceptions.NotFound("No such article.")
        return article

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if "q" not in request.query_params:
            return super().list(request, *args, **kwargs)
        query = request.query_params["q"]
        paginator = self.paginator
        assert isinstance(paginator, ArticleCursor)  # pagination_class
        limit = paginator.get_page_size(request)
        if limit > MAX_SEARCH_RESULTS:
            raise exceptions.ValidationError(
                {"page_size": [f"Search answers at most {MAX_SEARCH_RESULTS} results."]}
            )
        result = search_articles(query, user=self._reader(), limit=limit)
        if not result.query.strip():
            raise exceptions.ValidationError({"q": ["Type at least one word to search for."]})
        log_search(
            result.query, source=SearchSource.API, result_count=len(result), user=self._reader()
        )
        rows = []
        for hit in result.hits:
            hit.article.rank = hit.rank  # type: ignore[attr-defined]
            hit.article.snippet = str(hit.snippet_html)  # type: ignore[attr-defined]
            rows.append(hit.article)
        data = ArticleHitSerializer(rows, many=True, context=self.get_serializer_context()).data
        return Response(
            {
                "query": result.query,
                "match": result.match,
                "count": len(rows),
                "next": None,
                "previous": None,
                "results": data,
            }
        )
