"""The one article search: help center, request-form suggestions, agent reply box and API.

Ranked PostgreSQL full-text search (title weighted A over body B) first, all words, then
any of them. When that finds nothing, prefix matching catches words still being typed
("passw" finds "password"), and where the pg_trgm extension is installed, trigram
similarity on titles catches typos ("pasword"). An embedded PostgreSQL without pg_trgm
skips that last step rather than failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils.safestring import SafeString

from helpdesk.html import marked
from helpdesk.postgres import trigram_available
from kb.models import SEARCH_CONFIGS, Article, ArticleStatus, ArticleTranslation
from tickets.models import User

# ts_headline marks matches with these; helpdesk.html.marked escapes the text around
# them and puts the matches in <mark>, so article text can never inject markup.
_START, _STOP = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_PREFIX_LENGTH = 3
# Body-only matches ranked at most, so a common word costs a bounded amount of work.
RANK_CANDIDATES = 1000
# word_similarity(query, title) above which a title counts as a typo-tolerant match.
TRIGRAM_THRESHOLD = 0.45
MAX_QUERY_LENGTH = 200

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class MatchKind:
    FULLTEXT = "fulltext"
    ANY_WORD = "any_word"
    PREFIX = "prefix"
    TRIGRAM = "trigram"


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    title_html: SafeString
    snippet_html: SafeString
    rank: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[ArticleHit]
    match: str | None  # which step found the hits; None when nothing matched

    @property
    def is_fuzzy(self) -> bool:
        return self.match == MatchKind.TRIGRAM

    def __len__(self) -> int:
        return len(self.hits)


def normalize_query(query: str) -> str:
    return " ".join(query.split())[:MAX_QUERY_LENGTH]


def _marked(text: str) -> SafeString:
    return marked(text, _START, _STOP)


def _raw(words: list[str], joiner: str, label: str = "") -> SearchQuery:
    """A tsquery of `words` joined by & or |, optionally labelled * (prefix match).

    Words come from \\w+ only, so they cannot carry tsquery syntax.
    """
    terms = [f"{word}:{label}" if label else word for word in words]
    return SearchQuery(f" {joiner} ".join(terms), search_type="raw", config="english")


def _ranked(articles: QuerySet[Article], tsquery: SearchQuery, limit: int) -> list[ArticleHit]:
    """The best `limit` matches of `tsquery`, ranked by ts_rank (title A over body B).

    ts_rank reads each match's vector, so ranking every article that mentions a common
    word would read thousands of rows. Title matches outrank body-only matches and are
    few, found through the title's own index, so they come first; body-only matches fill
    the rest of the page from at most RANK_CANDIDATES of them. One UNION ALL under a
    LIMIT: PostgreSQL never runs the body part when the titles fill the page.
    """
    titles = _rank(articles.filter(title_vector=tsquery), tsquery, limit)
    candidates = (
        articles.filter(search_vector=tsquery)
        .exclude(title_vector=tsquery)
        .values("pk")[:RANK_CANDIDATES]
    )
    bodies = _rank(Article.objects.filter(pk__in=candidates), tsquery, limit)
    winners = list(titles.union(bodies, all=True).order_by()[:limit])
    return _load_hits(winners, tsquery)


def _rank(articles: QuerySet[Article], tsquery: SearchQuery, limit: int) -> QuerySet[Any]:
    # Rank on the article table alone; _load_hits then joins the page of winners only.
    return (
        articles.annotate(rank=SearchRank(F("search_vector"), tsquery))
        .order_by("-rank", "-updated_at", "pk")
        .values_list("pk", "rank")[:limit]
    )


def _headline(
    field: str, query: SearchQuery, *, highlight_all: bool = False, config: str = "english"
) -> SearchHeadline:
    options = {"highlight_all": True} if highlight_all else {"max_words": 30, "min_words": 12}
    return SearchHeadline(
        field,
        query,
        config=config,
        start_sel=_START,
        stop_sel=_STOP,
        max_fragments=0 if highlight_all else 2,
        fragment_delimiter=" … ",
        **options,
    )


def _load_hits(winners: list[tuple[int, float]], headline_query: SearchQuery) -> list[ArticleHit]:
    """The ranked (id, rank) winners as hits: one query with relations and snippets."""
    if not winners:
        return []
    rows = (
        Article.objects.filter(pk__in=[pk for pk, _ in winners])
        .select_related("section__category", "author")
        .annotate(
            title_marked=_headline("title", headline_query, highlight_all=True),
            snippet=_headline("body_text", headline_query),
        )
        .in_bulk()
    )
    return [_hit(rows[pk], rank) for pk, rank in winners]


class _Headlines(TypedDict):
    title_marked: str
    snippet: str


def _hit(article: WithAnnotations[Article, _Headlines], rank: float) -> ArticleHit:
    return ArticleHit(
        article=article,
        title_html=_marked(article.title_marked),
        snippet_html=_marked(article.snippet),
        rank=float(rank),
    )


def _trigram(articles: QuerySet[Article], text: str, limit: int) -> list[ArticleHit]:
    words = _WORD.findall(text)
    any_word = SearchQuery(" ".join(words), search_type="websearch", config="english")
    with transaction.atomic(), connection.cursor() as cursor:
        # The %> operator (and its GIN index) compares against this threshold; set_config
        # with is_local=true keeps the change inside this transaction.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TRIGRAM_THRESHOLD)],
        )
        winners = list(
            articles.filter(title__trigram_word_similar=text)
            .annotate(rank=TrigramWordSimilarity(text, "title"))
            .order_by("-rank", "-updated_at", "pk")
            .values_list("pk", "rank")[:limit]
        )
    return _load_hits(winners, any_word)


def search_articles(
    query: str, *, user: User | None, limit: int = 10, use_trigram: bool | None = None
) -> SearchResult:
    """Published articles `user` may read that match `query`, best first, with snippets.

    `use_trigram` defaults to whether pg_trgm is installed; tests pass False to exercise
    the path the embedded database takes.
    """
    text = normalize_query(query)
    words = _WORD.findall(text.lower())
    if not words:
        return SearchResult(text, [], None)
    articles = Article.objects.readable_by(user)
    websearch = SearchQuery(text, search_type="websearch", config="english")
    hits = _ranked(articles, websearch, limit)
    if hits:
        return SearchResult(text, hits, MatchKind.FULLTEXT)
    if len(words) > 1:
        # A sentence ("password reset mail never arrives") rarely has every word in one
        # article; articles with some of them, best ranked first, still answer it.
        hits = _ranked(articles, _raw(words, "|"), limit)
        if hits:
            return SearchResult(text, hits, MatchKind.ANY_WORD)
    # Words still being typed: "passw" finds "password". A very short word is left out,
    # as "a:*" would match half the articles.
    prefixes = [word for word in words if len(word) >= MIN_PREFIX_LENGTH]
    if prefixes:
        hits = _ranked(articles, _raw(prefixes, "&", "*"), limit)
        if hits:
            return SearchResult(text, hits, MatchKind.PREFIX)
    if use_trigram is None:
        use_trigram = trigram_available()
    if use_trigram:
        hits = _trigram(articles, text, limit)
        if hits:
            return SearchResult(text, hits, MatchKind.TRIGRAM)
    return SearchResult(text, [], None)


def search_translations(
    query: str, *, user: User | None, language: str, limit: int = 10
) -> SearchResult:
    """Published translations into `language` of the articles `user` may read that match
    `query` in that language's text-search configuration (its stemmer: "Passwörter"
    finds "Passwort"), best first; each hit's title and snippet are the translation's."""
    text = normalize_query(query)
    config = SEARCH_CONFIGS.get(language)
    if not _WORD.findall(text) or config is None or language == "en":
        return SearchResult(text, [], None)
    tsquery = SearchQuery(text, search_type="websearch", config=config)
    rows = list(
        ArticleTranslation.objects.filter(
            language=language,
            status=ArticleStatus.PUBLISHED,
            article__in=Article.objects.readable_by(user),
            search_vector=tsquery,
        )
        .select_related("article__section__category", "article__author")
        .annotate(
            rank=SearchRank(F("search_vector"), tsquery),
            title_marked=_headline("title", tsquery, highlight_all=True, config=config),
            snippet=_headline("body_text", tsquery, config=config),
        )
        .order_by("-rank", "-updated_at", "pk")[:limit]
    )
    hits = [
        ArticleHit(
            article=row.article,
            title_html=_marked(row.title_marked),
            snippet_html=_marked(row.snippet),
            rank=float(row.rank),
        )
        for row in rows
    ]
    return SearchResult(text, hits, MatchKind.FULLTEXT if hits else None)
