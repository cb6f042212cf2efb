"""Read paths of the agent workspace: the inbox list, its counts, search, the ticket page.

Every list the screens show comes from one function here, so the benchmark can time
exactly what a page runs and the query-count tests can pin it down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BigIntegerField, Func, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from helpdesk.html import marked
from tickets.history import history_events
from tickets.models import (
    DONE_STATUSES,
    NEXT_DUE,
    NO_DUE,
    OPEN_STATUSES,
    PRIORITY_RANK,
    SEARCH_MONTH_SECONDS,
    EventKind,
    Mailbox,
    Message,
    Status,
    Team,
    Ticket,
    TicketEvent,
    User,
    message_search_doc,
)
from tickets.profiles import customers_named

PAGE_SIZE = 50
# Counts above this show as "999+": a capped COUNT reads at most this many index
# entries, so the badge stays cheap even for "Solved" at a million tickets.
COUNT_CAP = 999

# The inbox views: name -> (label, filter). Status sets follow OPEN_STATUSES' order so the
# "unassigned" filter matches the partial index ticket_unassigned_open exactly.
VIEWS: dict[str, str] = {
    "unassigned": "Unassigned",
    "mine": "Mine",
    "open": "All open",
    "pending": "Pending",
    "solved": "Solved",
    "all": "All tickets",
}
SORTS = {
    "updated": "Last updated",
    "created": "Newest",
    "priority": "Priority",
    "due": "SLA due soonest",
}
# SLA filters (tickets/workflow/sla.py stores the due times on the ticket).
SLA_FILTERS = {"overdue": "Overdue", "soon": "Due within an hour", "any": "Has an SLA"}
# NEXT_DUE, NO_DUE (tickets.models): the next SLA due time, indexed for the "due" sort
# and the SLA filters.


def view_filter(view: str, user: User) -> Q:
    match view:
        case "unassigned":
            return Q(status__in=OPEN_STATUSES, assignee__isnull=True)
        case "mine":
            return Q(status__in=OPEN_STATUSES, assignee=user)
        case "pending":
            return Q(status=Status.PENDING)
        case "solved":
            return Q(status__in=DONE_STATUSES)
        case "all":
            return Q()
        case _:
            return Q(status__in=OPEN_STATUSES)


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows: a view, optional filters, a sort and a keyset cursor."""

    view: str = "open"
    status: str = ""
    priority: str = ""
    kind: str = ""
    tag: str = ""
    # An agent's id, or "none" for unassigned tickets.
    assignee: str = ""
    mailbox: int | None = None
    team: int | None = None
    sort: str = "updated"
    sla: str = ""
    cursor: str = ""
    limit: int = PAGE_SIZE


@dataclass
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str = ""
    is_first: bool = True


def _ts(value: datetime) -> str:
    return str(int(value.timestamp() * 1_000_000))


def _from_ts(text: str) -> datetime:
    return datetime.fromtimestamp(int(text) / 1_000_000, tz=UTC)


def encode_cursor(ticket: Ticket, sort: str) -> str:
    if sort == "created":
        return f"{_ts(ticket.created_at)}.{ticket.number}"
    if sort == "priority":
        return f"{PRIORITY_RANK[ticket.priority]}.{_ts(ticket.updated_at)}.{ticket.number}"
    if sort == "due":
        return f"{_ts(ticket.next_due)}.{ticket.number}"  # type: ignore[attr-defined]
    return f"{_ts(ticket.updated_at)}.{ticket.number}"


def _after_cursor(cursor: str, sort: str) -> Q | None:
    """Rows strictly after the cursor in the sort order; None for a malformed cursor.

    Written as `col <= x AND (col < x OR number < n)` so PostgreSQL gets an index range
    bound on the leading column, which is what keeps page 1,000 as fast as page 1.
    """
    try:
        stamp, number = (int(p) for p in cursor.split("."))
        at = _from_ts(str(stamp))
    except (ValueError, OverflowError, OSError):
        return None
    if sort == "due":
        # Ascending: soonest first.
        return Q(next_due__gte=at) & (Q(next_due__gt=at) | Q(next_due=at, number__gt=number))
    column = "created_at" if sort == "created" else "updated_at"
    return Q(**{f"{column}__lte": at}) & (
        Q(**{f"{column}__lt": at}) | Q(**{column: at, "number__lt": number})
    )


def filtered_tickets(user: User, query: InboxQuery) -> QuerySet[Ticket]:
    """The view and filters, without sort or pagination; shared by the list and bulk."""
    return _filtered(Ticket.objects.visible_to(user), user, query)


def _filtered(qs: QuerySet[Ticket], user: User, query: InboxQuery) -> QuerySet[Ticket]:
    base = view_filter(query.view, user)
    if query.status:
        # An explicit status filter replaces the view's own status set.
        if query.view == "unassigned":
            base = Q(assignee__isnull=True)
        elif query.view == "mine":
            base = Q(assignee=user)
        else:
            base = Q()
        base &= Q(status=query.status)
    qs = qs.filter(base)
    if query.priority:
        qs = qs.filter(priority=query.priority)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.tag:
        qs = qs.filter(tags__contains=[query.tag])
    if query.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif query.assignee:
        qs = qs.filter(assignee_id=int(query.assignee))
    if query.mailbox:
        qs = qs.filter(mailbox_id=query.mailbox)
    if query.team:
        qs = qs.filter(team_id=query.team)
    if query.sla:
        qs = qs.annotate(next_due=NEXT_DUE)
        if query.status not in OPEN_STATUSES:  # redundant beside an open status
            qs = qs.filter(status__in=OPEN_STATUSES)
        now = timezone.now()
        if query.sla == "overdue":
            qs = qs.filter(next_due__lte=now)
        elif query.sla == "soon":
            qs = qs.filter(next_due__gt=now, next_due__lte=now + timedelta(hours=1))
        else:
            qs = qs.filter(next_due__lt=NO_DUE)
    return qs


def inbox_tickets(user: User, query: InboxQuery) -> InboxPage:
    """One page of the inbox: one query (up to four for the priority sort), keyset-paginated."""
    qs = filtered_tickets(user, query).select_related("customer", "assignee", "mailbox")
    if query.sort == "priority":
        return _by_priority(qs, query)
    if query.sort == "due":
        if "next_due" not in qs.query.annotations:
            qs = qs.annotate(next_due=NEXT_DUE)
        qs = qs.order_by("next_due", "number")
    elif query.sort == "created":
        qs = qs.order_by("-created_at", "-number")
    else:
        qs = qs.order_by("-updated_at", "-number")
    after = _after_cursor(query.cursor, query.sort) if query.cursor else None
    if after is not None:
        qs = qs.filter(after)
    if query.sort == "updated" and user.is_agent and not user.sees_everything:
        # One agent's tickets (Mine, an assignee filter) are few and mostly in the
        # agent's mailboxes: read per status on ticket_assignee, not per mailbox.
        per_mailbox = query.view != "mine" and query.assignee in ("", "none")
        # Compiled on its own and passed as SQL: nested as a queryset, Django clones and
        # relabels its four subqueries again (6.5 ms of CPU per page instead of 2.5).
        newest = _newest_per_mailbox(user, query, after, query.limit + 1, per_mailbox)
        try:
            sql, params = newest.query.sql_with_params()
        except EmptyResultSet:  # no status the view can show
            return _page([], query, is_first=after is None)
        qs = qs.filter(number__in=RawSQL(sql, params))  # noqa: S611 - Django's own compiled SQL
    return _page(list(qs[: query.limit + 1]), query, is_first=after is None)


def _view_statuses(query: InboxQuery) -> tuple[str, ...]:
    """The statuses a view and its filters can show (see view_filter and _filtered)."""
    if query.status:
        statuses: tuple[str, ...] = (query.status,)
    elif query.view == "pending":
        statuses = (Status.PENDING,)
    elif query.view == "solved":
        statuses = DONE_STATUSES
    elif query.view == "all":
        statuses = tuple(Status.values)
    else:
        statuses = OPEN_STATUSES
    if query.sla:
        statuses = tuple(s for s in statuses if s in OPEN_STATUSES)
    return statuses


def _newest_per_mailbox(
    user: User, query: InboxQuery, after: Q | None, count: int, per_mailbox: bool = True
) -> QuerySet[Any]:
    """The numbers of the `count` newest matching tickets of each (mailbox, status) the
    agent sees: a superset of the page, each an ordered scan of ticket_mailbox_updated.

    Read newest first over all mailboxes (ticket_updated), an agent's page has to skip
    every newer ticket of the mailboxes they do not see: 98,000 of them at 1M tickets
    once the mail bench had filled a mailbox of its own, 40-80 ms. PostgreSQL cannot
    merge several index ranges in order, so each (mailbox, status) is read on its own
    (at most `count` rows each) and the page is taken from their union. Without
    `per_mailbox`, each status is read once over the mailboxes the agent sees.
    """
    base = Ticket.objects.all() if per_mailbox else Ticket.objects.visible_to(user)
    newest: Any = None
    for status in _view_statuses(query):
        # The status as an explicit filter, which replaces the view's status set: with
        # both (status IN (open ones) AND status = 'new') PostgreSQL multiplies their
        # selectivities, thinks ticket_status_updated finds the rows sooner, and reads it
        # filtering by mailbox: 35,000 rows of another mailbox's new tickets (10 ms) and a
        # cost estimate over jit_above_cost (34 ms of JIT compilation) per page.
        tickets = _filtered(base, user, replace(query, status=status))
        if after is not None:
            tickets = tickets.filter(after)
        top = tickets.filter(mailbox_id=OuterRef("mailbox_id")) if per_mailbox else tickets
        array = ArraySubquery(top.order_by("-updated_at", "-number").values("number")[:count])
        newest = array if newest is None else Func(newest, array, function="", arg_joiner=" || ")
    if newest is None:
        return Ticket.objects.none().values("number")
    unnest = Func(newest, function="unnest", output_field=BigIntegerField())
    mailboxes = Mailbox.teams.through.objects.filter(team__members=user)
    return mailboxes.annotate(ticket_number=unnest).values("ticket_number")


def _page(rows: list[Ticket], query: InboxQuery, *, is_first: bool) -> InboxPage:
    page = InboxPage(tickets=rows[: query.limit], is_first=is_first)
    if len(rows) > query.limit:
        page.next_cursor = encode_cursor(page.tickets[-1], query.sort)
    return page


def _by_priority(qs: QuerySet[Ticket], query: InboxQuery) -> InboxPage:
    """Urgent first, then high, normal, low; most recently updated first within each.

    Ordering by a CASE over priority would sort every matching ticket; instead each
    level is its own ordered scan (index ticket_open_priority), read only until the page
    is full.
    """
    start_rank, after = len(PRIORITY_RANK), None
    if query.cursor:
        try:
            rank_text, rest = query.cursor.split(".", 1)
            start_rank = int(rank_text)
            after = _after_cursor(rest, "updated")
        except ValueError:
            after = None
        if after is None:
            start_rank = len(PRIORITY_RANK)
    rows: list[Ticket] = []
    for value, rank in sorted(PRIORITY_RANK.items(), key=lambda item: -item[1]):
        if rank > start_rank or (query.priority and query.priority != value):
            continue
        level = qs.filter(priority=value).order_by("-updated_at", "-number")
        if rank == start_rank and after is not None:
            level = level.filter(after)
        rows += level[: query.limit + 1 - len(rows)]
        if len(rows) > query.limit:
            break
    return _page(rows, query, is_first=after is None)


@dataclass
class ViewCount:
    key: str
    label: str
    count: int
    params: str

    @property
    def display(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


@dataclass
class InboxCounts:
    views: list[ViewCount] = field(default_factory=list)
    mailboxes: list[ViewCount] = field(default_factory=list)
    teams: list[ViewCount] = field(default_factory=list)


def _capped_count(qs: QuerySet[Ticket]) -> int:
    # A sliced queryset counts as SELECT COUNT(*) FROM (SELECT ... LIMIT n): bounded work.
    return qs[: COUNT_CAP + 1].count()


def visible_mailboxes(user: User) -> QuerySet[Mailbox]:
    if user.sees_everything:
        return Mailbox.objects.all()
    return Mailbox.objects.filter(teams__members=user).distinct()


def visible_teams(user: User) -> QuerySet[Team]:
    return Team.objects.all() if user.sees_everything else user.teams.all()


def inbox_counts(user: User) -> InboxCounts:
    """The sidebar badges: one capped COUNT per view, mailbox and team, each on an index."""
    visible = Ticket.objects.visible_to(user)
    counts = InboxCounts()
    for key in ("unassigned", "mine", "open", "pending", "solved"):
        n = _capped_count(visible.filter(view_filter(key, user)))
        counts.views.append(ViewCount(key, VIEWS[key], n, f"view={key}"))
    open_tickets = visible.filter(status__in=OPEN_STATUSES)
    for mailbox in visible_mailboxes(user):
        n = _capped_count(open_tickets.filter(mailbox=mailbox))
        counts.mailboxes.append(
            ViewCount(f"mailbox-{mailbox.pk}", mailbox.name, n, f"mailbox={mailbox.pk}")
        )
    for team in visible_teams(user):
        n = _capped_count(open_tickets.filter(team=team))
        counts.teams.append(ViewCount(f"team-{team.pk}", team.name, n, f"team={team.pk}"))
    return counts


def assignable_agents(mailbox: Mailbox | None = None) -> QuerySet[User]:
    """Agents who may hold a ticket of `mailbox` (User.objects.assignable), or any active
    agent without one, by name."""
    agents = User.objects.assignable(mailbox.pk) if mailbox is not None else User.objects.agents()
    return agents.order_by("first_name", "email")


def ticket_conversation(ticket: Ticket) -> list[Message]:
    """The messages of a ticket, oldest first, with authors and attachments: two queries."""
    return list(
        ticket.messages.select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def ticket_events(ticket: Ticket, limit: int = 200) -> list[TicketEvent]:
    """The newest events first; assignee changes carry the agents' names (one query)."""
    events = list(history_events(ticket).select_related("actor").order_by("-at", "-id")[:limit])
    emails = {
        value
        for event in events
        if event.kind == EventKind.ASSIGNEE
        for value in (event.before, event.after)
        if isinstance(value, str)
    }
    names = {email: user.display_name for email, user in User.objects.by_email(emails).items()}
    for event in events:
        event.names = names  # type: ignore[attr-defined]
    return events


def customer_other_tickets(user: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other tickets the agent may see, newest first (index ticket_customer)."""
    return list(
        Ticket.objects.visible_to(user)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:limit]
    )


# --- Full-text search -------------------------------------------------------------------

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
_START, _STOP = "\x01", "\x02"
_SUBJECT_OPTIONS = f"HighlightAll=true, StartSel={_START}, StopSel={_STOP}"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2"


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
    return (
        " AND t.mailbox_id IN (SELECT mt.mailbox_id FROM tickets_mailbox_teams mt"
        " JOIN tickets_team_members tm ON tm.team_id = mt.team_id WHERE tm.user_id = %s)",
        [user.pk],
    )


def search_tickets(user: User, text: str, page: int = 1) -> SearchResults:
    """Tickets whose subject or any message matches `text`, best first, with snippets.

    Each side is a bitmap scan of its own GIN index (ticket_search, message_search_dated),
    capped, then UNIONed: PostgreSQL never has to rank every row that mentions a
    common word, and an OR across two tables (which no index can serve) is avoided.
    Messages come newest months first (see MESSAGE_SEARCH_DOC).
    Snippets (ts_headline, which re-parses the text) run only for the page shown.
    """
    text = text.strip()[:200]
    if not text or not user.is_agent:
        return SearchResults(text, [], 0, page, False)
    visibility, vis_params = _visibility_sql(user)
    number = re.fullmatch(r"#?(\d{1,18})", text)
    recent, year = _month_lexemes(timezone.now())
    cap = SEARCH_MESSAGE_CANDIDATES

    def messages(where: str, limit: str) -> str:
        return f"""
            SELECT m.ticket_id AS id, ts_rank(m.search_vector, q.query) AS rank
              FROM tickets_message m JOIN tickets_ticket t ON t.number = m.ticket_id, q
             WHERE numnode(q.query) > 0 AND {MESSAGE_SEARCH_DOC} @@ {where} {visibility}
             LIMIT {limit}"""  # noqa: S608 (constants only; user input is in params)

    # Only constants and fixed SQL fragments are interpolated; user input goes in params.
    # A LIMIT of zero never starts its scan, so older months are read only when the
    # newer ones did not fill the candidates.
    recent_sql = messages("(q.query && %s::tsquery)", str(cap))
    found_recent, found_year = "(SELECT count(*) FROM recent)", "(SELECT count(*) FROM year)"
    year_sql = messages("(q.query && %s::tsquery)", f"{cap} - {found_recent}")
    # Older than both (a message of this month is no candidate twice: with the cap, a
    # repeat would take the place of an older match).
    anytime_sql = messages("(q.query && !!%s::tsquery)", f"{cap} - {found_recent} - {found_year}")
    sql = f"""
        WITH q AS (SELECT websearch_to_tsquery('english', %s) AS query),
        recent AS ({recent_sql}),
        year AS ({year_sql}),
        anytime AS ({anytime_sql}),
        candidates AS (
            (SELECT t.number AS id, ts_rank(t.search_vector, q.query) * 2 AS rank
               FROM tickets_ticket t, q
              WHERE t.search_vector @@ q.query {visibility}
              LIMIT {SEARCH_CANDIDATES})
            UNION ALL SELECT * FROM recent
            UNION ALL SELECT * FROM year
            UNION ALL SELECT * FROM anytime
            UNION ALL
            (SELECT t.number, 10.0 FROM tickets_ticket t
              WHERE t.number = %s {visibility})
            UNION ALL
            (SELECT t.number, 1.0 FROM tickets_ticket t
              WHERE t.customer_id = ANY(%s) {visibility} LIMIT {SEARCH_CANDIDATES})
        )
        SELECT id, max(rank) AS rank FROM candidates
        GROUP BY id ORDER BY rank DESC, id DESC
    """  # noqa: S608
    params: list[object] = [
        text,
        recent,
        *vis_params,
        year,
        *vis_params,
        f"{recent} | {year}",
        *vis_params,
        *vis_params,
        int(number.group(1)) if number else -1,
        *vis_params,
        customers_named(text),  # all the tickets of a customer the query names
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
            subject_html=snippets.get(ticket_id, ("", ""))[0] or escape(tickets[ticket_id].subject),
            snippet_html=snippets.get(ticket_id, ("", ""))[1],
        )
        for ticket_id, rank in window
        if ticket_id in tickets
    ]
    return SearchResults(text, hits, len(ranked), page, start + SEARCH_PAGE_SIZE < len(ranked))


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
