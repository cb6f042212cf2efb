"""The agent workspace's full-text search of tickets (the search page and the top bar):
subjects and messages ranked, a ticket number, a custom field's value, and all the
tickets of a customer the query names (tickets.profiles.customers_named), each through
the viewer's visibility."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from helpdesk.html import marked
from tickets.models import SEARCH_MONTH_SECONDS, Ticket, User, message_search_doc
from tickets.profiles import customers_named
from tickets.services.fields import search_documents

SEARCH_PAGE_SIZE = 25
# Each index branch contributes at most this many candidate tickets before ranking, which
# bounds the work for a common word at four million messages.
SEARCH_CANDIDATES = 500
# Messages are found newest first, a month at a time: a GIN index returns rows in table
# order, i.e. oldest first, so a plain capped scan would rank the oldest matches of a
# common word and never show last week's. The index `message_search_dated` (migration
# 0007) adds a month lexeme ("zm<months since 1970>") to each message's vector, so the
# index alone picks this month's and last month's matches, then the year before, then
# any. The expression below must stay the index's, word for word.
MESSAGE_SEARCH_DOC = message_search_doc("m.search_vector", "m.created_at")
# Months searched by the first and the second pass (counting the current one as 0).
SEARCH_RECENT_MONTHS, SEARCH_YEAR_MONTHS = 2, 6
# Messages ranked per search: reading each candidate (and, for an agent who sees some
# mailboxes, the rows of the others on the way) is most of a search's time.
SEARCH_MESSAGE_CANDIDATES = 200
# A query that PostgreSQL's statistics say matches at least this share of a table's rows
# (the product of its words' shares in pg_stats.most_common_elems) is "common" there:
# its candidates are read newest first, a btree scan that stops at the cap, instead of
# the GIN bitmap of every match (at 1M tickets the most common word is in 98% of the
# messages: a bitmap of 200,000 rows for the recent months alone, 100-200 ms). For
# messages 5%: "help" and "question" (7% of the messages at 1M) took 70-110 ms through
# the bitmap of their recent months (15,000 rows), 40-77 ms newest first, with the same
# best matches on top.
COMMON_SHARE = {"tickets_message": 0.05, "tickets_ticket": 0.03}
# How long a process keeps the statistics (they change with ANALYZE, i.e. slowly).
STATS_SECONDS = 600
_START, _STOP = "\x01", "\x02"
_SUBJECT_OPTIONS = f"HighlightAll=true, StartSel={_START}, StopSel={_STOP}"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2"


_NO_SNIPPET = (SafeString(""), SafeString(""))


@dataclass
class SearchHit:
    ticket: Ticket
    rank: float
    subject_html: SafeString
    snippet_html: SafeString


@dataclass
class SearchResults:
    query: str
    hits: list[SearchHit]
    total: int
    page: int
    has_next: bool

    @property
    def capped(self) -> bool:
        return self.total >= min(SEARCH_CANDIDATES, SEARCH_MESSAGE_CANDIDATES)


def _highlight(text: str) -> SafeString:
    return marked(text, _START, _STOP)


def _visibility_sql(user: User) -> tuple[str, list[object]]:
    if user.sees_everything:
        return "", []
    # `= ANY(ARRAY(...))`, as in Ticket.objects.visible_to: the agent's mailboxes are
    # computed once (an InitPlan) and each ticket filtered as it is read. As `IN
    # (SELECT ...)` it became a semi-join the planner could drive from: at 100k tickets
    # the subjects of "invoice", a common word, were found by reading all 25,000 of the
    # agent's tickets and sorting them (110 ms) instead of walking back from the newest.
    return (
        " AND t.mailbox_id = ANY(ARRAY(SELECT mt.mailbox_id FROM tickets_mailbox_teams mt"
        " JOIN tickets_team_members tm ON tm.team_id = mt.team_id WHERE tm.user_id = %s))",
        [user.pk],
    )


def search_tickets(user: User, text: str, page: int = 1) -> SearchResults:
    """Tickets whose subject or any message matches `text`, best first, with snippets.

    Each side is capped, then UNIONed: PostgreSQL never has to rank every row that
    mentions a common word, and an OR across two tables (which no index can serve) is
    avoided. A side where the query is rare is a bitmap scan of its own GIN index
    (ticket_search, message_search_dated; messages newest months first, see
    MESSAGE_SEARCH_DOC); where it is common (COMMON_SHARE), its newest matches.
    Snippets (ts_headline, which re-parses the text) run only for the page shown.
    """
    text = text.strip()[:200]
    if not text or not user.is_agent:
        return SearchResults(text, [], 0, page, False)
    visibility, vis_params = _visibility_sql(user)
    number = re.fullmatch(r"#?(\d{1,18})", text)
    cap = SEARCH_MESSAGE_CANDIDATES
    # A custom field's value (an order number) finds its ticket: one `@>` per field that
    # could hold the text, ORed into a BitmapOr of the ticket_fields index.
    documents = [json.dumps(doc) for doc in search_documents(text)]
    field_match = " OR ".join(["t.fields @> %s::jsonb"] * len(documents)) or "false"

    share = _query_share(text)
    if share.get("tickets_message", 0.0) >= COMMON_SHARE["tickets_message"]:
        # Newest first along the primary key (ids grow with time), each row's own vector
        # checked: `m.search_vector` is in no GIN index (message_search_dated indexes the
        # dated document), so no bitmap of every match is built.
        messages_sql = f"""
            messages AS (
            SELECT m.ticket_id AS id, ts_rank(m.search_vector, q.query) AS rank
              FROM tickets_message m JOIN tickets_ticket t ON t.number = m.ticket_id, q
             WHERE numnode(q.query) > 0 AND m.search_vector @@ q.query {visibility}
             ORDER BY m.id DESC LIMIT {cap})"""  # noqa: S608 (constants only)
        messages_params = list(vis_params)
    else:
        messages_sql, messages_params = _dated_messages_sql(visibility, vis_params, cap)
    if share.get("tickets_ticket", 0.0) >= COMMON_SHARE["tickets_ticket"]:
        # The newest tickets first, along the primary key (the heap's own order, so few
        # pages are read); `IS TRUE` keeps ticket_search (GIN) out of the plan, which
        # would build the bitmap of every match before the LIMIT.
        subjects_sql = f"""
            (SELECT t.number AS id, ts_rank(t.search_vector, q.query) * 2 AS rank
               FROM tickets_ticket t, q
              WHERE (t.search_vector @@ q.query) IS TRUE {visibility}
              ORDER BY t.number DESC LIMIT {cap})"""  # noqa: S608
    else:
        subjects_sql = f"""
            (SELECT t.number AS id, ts_rank(t.search_vector, q.query) * 2 AS rank
               FROM tickets_ticket t, q
              WHERE t.search_vector @@ q.query {visibility}
              LIMIT {SEARCH_CANDIDATES})"""  # noqa: S608
    sql = f"""
        WITH q AS (SELECT websearch_to_tsquery('english', %s) AS query),
        {messages_sql},
        candidates AS (
            {subjects_sql}
            UNION ALL SELECT * FROM messages
            UNION ALL
            (SELECT t.number, 10.0 FROM tickets_ticket t
              WHERE t.number = %s {visibility})
            UNION ALL
            (SELECT t.number, 1.0 FROM tickets_ticket t
              WHERE t.customer_id = ANY(%s) {visibility} LIMIT {SEARCH_CANDIDATES})
            UNION ALL
            (SELECT t.number, 5.0 FROM tickets_ticket t
              WHERE ({field_match}) {visibility} LIMIT {SEARCH_CANDIDATES})
        )
        SELECT id, max(rank) AS rank FROM candidates
        GROUP BY id ORDER BY rank DESC, id DESC
    """  # noqa: S608
    params: list[Any] = [
        text,
        *messages_params,
        *vis_params,
        int(number.group(1)) if number else -1,
        *vis_params,
        customers_named(text),  # all the tickets of a customer the query names
        *vis_params,
        *documents,
        *vis_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ranked = cursor.fetchall()
    page = max(1, page)
    start = (page - 1) * SEARCH_PAGE_SIZE
    window = ranked[start : start + SEARCH_PAGE_SIZE]
    ids = [row[0] for row in window]
    tickets = Ticket.objects.select_related("customer", "assignee", "mailbox").in_bulk(ids)
    snippets = _snippets(text, ids)
    hits = [
        SearchHit(
            ticket=tickets[ticket_id],
            rank=rank,
            subject_html=snippets.get(ticket_id, _NO_SNIPPET)[0]
            or escape(tickets[ticket_id].subject),
            snippet_html=snippets.get(ticket_id, _NO_SNIPPET)[1],
        )
        for ticket_id, rank in window
        if ticket_id in tickets
    ]
    return SearchResults(text, hits, len(ranked), page, start + SEARCH_PAGE_SIZE < len(ranked))


def _dated_messages_sql(
    visibility: str, vis_params: list[object], cap: int
) -> tuple[str, list[object]]:
    """Messages of a query that is not common: this month's and last month's matches,
    then the year before, then any, each a GIN lookup of its own months (see
    MESSAGE_SEARCH_DOC)."""
    recent, year = _month_lexemes(timezone.now())

    def messages(where: str, limit: str) -> str:
        return f"""
            SELECT m.ticket_id AS id, ts_rank(m.search_vector, q.query) AS rank
              FROM tickets_message m JOIN tickets_ticket t ON t.number = m.ticket_id, q
             WHERE numnode(q.query) > 0 AND {MESSAGE_SEARCH_DOC} @@ {where} {visibility}
             LIMIT {limit}"""  # noqa: S608 (constants only; user input is in params)

    # A LIMIT of zero never starts its scan, so older months are read only when the
    # newer ones did not fill the candidates.
    recent_sql = messages("(q.query && %s::tsquery)", str(cap))
    found_recent, found_year = "(SELECT count(*) FROM recent)", "(SELECT count(*) FROM year)"
    year_sql = messages("(q.query && %s::tsquery)", f"{cap} - {found_recent}")
    # Older than both (a message of this month is no candidate twice: with the cap, a
    # repeat would take the place of an older match).
    anytime_sql = messages("(q.query && !!%s::tsquery)", f"{cap} - {found_recent} - {found_year}")
    sql = f"""
        recent AS ({recent_sql}),
        year AS ({year_sql}),
        anytime AS ({anytime_sql}),
        messages AS (
            SELECT * FROM recent UNION ALL SELECT * FROM year UNION ALL SELECT * FROM anytime
        )"""  # noqa: S608
    params = [recent, *vis_params, year, *vis_params, f"{recent} | {year}", *vis_params]
    return sql, params


def _query_share(text: str) -> dict[str, float]:
    """The share of each searched table's rows the query matches, estimated from
    PostgreSQL's statistics as the product of its words' shares (words the statistics
    do not list count as rare); 0 for a query with OR or NOT."""
    lexemes = _lexemes(text)
    if not lexemes:
        return {}
    shares = {}
    for table, frequencies in _lexeme_shares().items():
        share = 1.0
        for lexeme in lexemes:
            share *= frequencies.get(lexeme, 0.0)
        shares[table] = share
    return shares


@lru_cache(maxsize=2048)
def _lexemes(text: str) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT querytree(websearch_to_tsquery('english', %s))", [text])
        tree = cursor.fetchone()[0]
    words = re.findall(r"'((?:[^']|'')*)'", tree)
    outside = re.sub(r"'(?:[^']|'')*'", "", tree)
    if "|" in outside or "!" in outside:
        return ()
    return tuple(word.replace("''", "'") for word in words)


_shares: dict[str, dict[str, float]] = {}
_shares_read_at = -float(STATS_SECONDS)


def _lexeme_shares() -> dict[str, dict[str, float]]:
    """{table: {lexeme: share of its rows}} of the search vectors' most common lexemes
    (pg_stats, as ANALYZE last sampled them), read at most every STATS_SECONDS."""
    global _shares, _shares_read_at
    if time.monotonic() - _shares_read_at < STATS_SECONDS:
        return _shares
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT tablename, most_common_elems::text::text[], most_common_elem_freqs
                 FROM pg_stats
                WHERE schemaname = current_schema() AND attname = 'search_vector'
                  AND tablename IN ('tickets_ticket', 'tickets_message')"""
        )
        _shares = {
            table: dict(zip(lexemes or [], frequencies or [], strict=False))
            for table, lexemes, frequencies in cursor.fetchall()
        }
    _shares_read_at = time.monotonic()
    return _shares


def _month_lexemes(now: datetime) -> tuple[str, str]:
    """tsquery texts for the recent months and for the rest of the year before them."""
    current = int(now.timestamp()) // SEARCH_MONTH_SECONDS
    months = [f"zm{current - n}" for n in range(SEARCH_YEAR_MONTHS + 1)]
    return (
        " | ".join(months[:SEARCH_RECENT_MONTHS]),
        " | ".join(months[SEARCH_RECENT_MONTHS:]),
    )


def _snippets(text: str, ids: list[int]) -> dict[int, tuple[SafeString, SafeString]]:
    """Highlighted subject and the best-matching message's excerpt, for one page of ids."""
    if not ids:
        return {}
    sql = """
        WITH q AS (SELECT websearch_to_tsquery('english', %s) AS query)
        SELECT t.number,
               ts_headline('english', t.subject, q.query, %s),
               (SELECT ts_headline('english', left(m.body_text, 20000), q.query, %s)
                  FROM tickets_message m
                 WHERE m.ticket_id = t.number AND m.search_vector @@ q.query
                 ORDER BY ts_rank(m.search_vector, q.query) DESC, m.id
                 LIMIT 1)
          FROM tickets_ticket t, q
         WHERE t.number = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [text, _SUBJECT_OPTIONS, _HEADLINE_OPTIONS, ids])
        rows = cursor.fetchall()
    return {
        number: (_highlight(subject), _highlight(snippet) if snippet else SafeString())
        for number, subject, snippet in rows
    }
