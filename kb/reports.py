"""The knowledge-base gap report: what customers ask that no article answers.

`knowledge_gap_report(start, end)` is the selector the agent page under /kb/gaps/ shows and
the metrics dashboards can embed: unanswered searches, the least helpful articles and the
request-form deflection rate over one window, each a handful of aggregate queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Q

from kb.models import Article, ArticleStatus, RequestFormVisit, SearchQueryLog

# An article needs this many votes before its helpfulness ranks it among the worst.
MIN_VOTES_FOR_RANKING = 3


@dataclass(frozen=True)
class UnansweredSearch:
    query: str
    searches: int
    last_searched_at: datetime


@dataclass(frozen=True)
class Deflection:
    form_visits: int
    suggestions_opened: int
    deflected: int
    tickets_filed: int

    @property
    def rate(self) -> float | None:
        """Visits that opened a suggestion and filed nothing, per request form started."""
        return self.deflected / self.form_visits if self.form_visits else None


@dataclass(frozen=True)
class GapReport:
    start: datetime
    end: datetime
    unanswered: list[UnansweredSearch]
    searches: int
    unanswered_searches: int
    least_helpful: list[Article]
    deflection: Deflection


def unanswered_searches(start: datetime, end: datetime, limit: int = 20) -> list[UnansweredSearch]:
    rows = (
        SearchQueryLog.objects.unanswered()
        .filter(at__gte=start, at__lt=end)
        .values("normalized")
        .annotate(searches=Count("id"), last=Max("at"))
        .order_by("-searches", "-last", "normalized")[:limit]
    )
    return [UnansweredSearch(row["normalized"], row["searches"], row["last"]) for row in rows]


def least_helpful_articles(limit: int = 10) -> list[Article]:
    """Published articles with enough votes, the largest share of "no" first."""
    return list(
        Article.objects.filter(status=ArticleStatus.PUBLISHED)
        .annotate(votes=F("helpful_count") + F("not_helpful_count"))
        .filter(votes__gte=MIN_VOTES_FOR_RANKING)
        .select_related("section__category")
        .order_by(
            (F("not_helpful_count") * 1.0 / F("votes")).desc(), "-not_helpful_count", "title"
        )[:limit]
    )


def deflection(start: datetime, end: datetime) -> Deflection:
    figures = RequestFormVisit.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
        visits=Count("id"),
        opened=Count("id", filter=Q(first_opened_at__isnull=False)),
        deflected=Count("id", filter=Q(first_opened_at__isnull=False, ticket__isnull=True)),
        filed=Count("id", filter=Q(ticket__isnull=False)),
    )
    return Deflection(figures["visits"], figures["opened"], figures["deflected"], figures["filed"])


def knowledge_gap_report(
    start: datetime, end: datetime, limit: int = 20, *, with_articles: bool = True
) -> GapReport:
    """`with_articles=False` leaves out the least helpful articles (a ranking of every
    published article, not of the window), for pages that do not show them."""
    totals = SearchQueryLog.objects.filter(at__gte=start, at__lt=end).aggregate(
        searches=Count("id"), unanswered=Count("id", filter=Q(result_count=0))
    )
    return GapReport(
        start=start,
        end=end,
        unanswered=unanswered_searches(start, end, limit),
        searches=totals["searches"],
        unanswered_searches=totals["unanswered"],
        least_helpful=least_helpful_articles() if with_articles else [],
        deflection=deflection(start, end),
    )
