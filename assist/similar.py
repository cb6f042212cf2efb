"""Similar solved tickets and relevant articles, found from a ticket's own text.

The ticket's most telling words (assist.routing.keywords) become one PostgreSQL
full-text query over customers' first messages: the newest matching messages (capped,
so a common word costs a bounded scan) are ranked, and the best solved tickets the
viewer may open are offered with the reply that solved them. Articles come from the
knowledge base's own search, as the agent would have typed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F

from assist.routing import keywords, ticket_text
from kb.search import ArticleHit, search_articles
from tickets.models import DONE_STATUSES, Direction, Message, Ticket, User

# Matching messages read before ranking: newest first, so the scan stays bounded.
CANDIDATES = 2000
_WORD = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class SolvedTicket:
    number: int
    subject: str
    reply: str
    rank: float


def first_message_text(ticket: Ticket) -> str:
    body = (
        ticket.messages.filter(direction=Direction.INBOUND)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
        .first()
    )
    return ticket_text(ticket.subject, body or "")


def _tsquery(words: list[str]) -> SearchQuery | None:
    clean = [word for word in words if _WORD.match(word)]
    if not clean:
        return None
    return SearchQuery(" | ".join(clean), search_type="raw", config="english")


def similar_solved(ticket: Ticket, viewer: User, text: str, limit: int = 3) -> list[SolvedTicket]:
    """The solved tickets most like `ticket` that `viewer` may open, best first, each with
    its last public agent reply (the one that solved it)."""
    query = _tsquery(keywords(text))
    if query is None:
        return []
    candidates = (
        Message.objects.filter(direction=Direction.INBOUND, search_vector=query)
        .exclude(ticket_id=ticket.pk)
        .order_by("-id")
        .values("pk")[:CANDIDATES]
    )
    visible = Ticket.objects.visible_to(viewer).filter(status__in=DONE_STATUSES)
    ranked = (
        Message.objects.filter(pk__in=candidates, ticket__in=visible.values("pk"))
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-id")
        .values_list("ticket_id", "rank")[: limit * 5]
    )
    best: dict[int, float] = {}
    for number, rank in ranked:
        if number not in best:
            best[number] = float(rank)
        if len(best) == limit:
            break
    if not best:
        return []
    replies = dict(
        Message.objects.filter(ticket_id__in=best, direction=Direction.OUTBOUND, automatic=False)
        .order_by("ticket_id", "-created_at", "-id")
        .distinct("ticket_id")
        .values_list("ticket_id", "body_text")
    )
    subjects = dict(Ticket.objects.filter(pk__in=best).values_list("pk", "subject"))
    return [
        SolvedTicket(number, subjects.get(number, ""), replies[number], rank)
        for number, rank in best.items()
        if replies.get(number)
    ]


def relevant_articles(viewer: User, text: str, limit: int = 3) -> list[ArticleHit]:
    """Published articles the viewer may read that answer the ticket's words."""
    words = keywords(text)
    if not words:
        return []
    return search_articles(" ".join(words), user=viewer, limit=limit, use_trigram=False).hits
