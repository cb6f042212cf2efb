"""Read paths of the agent workspace: the inbox list, its counts, search, the ticket page.

Every list the screens show comes from one function here, so the benchmark can time
exactly what a page runs and the query-count tests can pin it down.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import EmptyResultSet
from django.db.models import BigIntegerField, F, Func, Manager, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpdesk.postgres import Prepared
from tickets import directory
from tickets.cursors import _after, _after_cursor, _cursor_position
from tickets.cursors import encode_cursor as encode_cursor
from tickets.history import history_events
from tickets.models import (
    DONE_STATUSES,
    NEXT_DUE,
    NO_DUE,
    OPEN_STATUSES,
    PRIORITY_RANK,
    EqualsAny,
    EventKind,
    Mailbox,
    Message,
    Status,
    Team,
    Ticket,
    TicketEvent,
    User,
    attach_rows,
)

# The full-text search is a read path of its own module, named here with the others.
from tickets.search import SearchHit as SearchHit
from tickets.search import SearchResults as SearchResults
from tickets.search import search_tickets as search_tickets
from tickets.services.courtesy import NEWSLETTER_TAG
from tickets.services.fields import field_filters
from tickets.statements import Statement, compile_with_stand_ins

PAGE_SIZE = 50
# Counts above this show as "999+": a capped COUNT reads at most this many index
# entries, so the badge stays cheap even for "Solved" at a million tickets.
COUNT_CAP = 999
# The mailbox columns a ticket list never shows (EncryptedTextField: decrypted when read).

# What an inbox row shows (tickets.templatetags.tandem.inbox_rows, its SLA badge) and its
# cursor reads: of the four tables' ~100 columns, building and reading the others was
# ~30% of the selector's CPU. The mailbox's encrypted secrets are among those left out.
INBOX_ROW_FIELDS = (
    "number",
    "subject",
    "status",
    "priority",
    "kind",
    "channel",
    "tags",
    "fields",
    "snoozed_until",
    "created_at",
    "updated_at",
    "solved_at",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "customer__name",
    "customer__email",
    "mailbox__name",
    *(f"assignee__{name}" for name in User.NAME_FIELDS),
)

# The inbox views: name -> (label, filter). Status sets follow OPEN_STATUSES' order so the
# "unassigned" filter matches the partial index ticket_unassigned_open exactly.
VIEWS: dict[str, str | Promise] = {
    "unassigned": _("Unassigned"),
    "mine": _("Mine"),
    "open": _("All open"),
    "pending": _("Pending"),
    "snoozed": _("Snoozed"),
    "solved": _("Solved"),
    "all": _("All tickets"),
}
SORTS: dict[str, str | Promise] = {
    "updated": _("Last updated"),
    "created": _("Newest"),
    "priority": pgettext_lazy("sort", "Priority"),
    "due": _("SLA due soonest"),
}
# SLA filters (tickets/workflow/sla.py stores the due times on the ticket).
SLA_FILTERS: dict[str, str | Promise] = {
    "overdue": _("Overdue"),
    "soon": _("Due within an hour"),
    "any": _("Has an SLA"),
}
# A snoozed ticket (pending until its wake time, tickets.services.snooze_ticket) leaves
# the open views until it wakes, and is listed in "Snoozed". The time is the database's
# (Now() is SQL, not a parameter), so a compiled first page stays valid (see inbox_tickets).
SNOOZED = Q(snoozed_until__gt=Now())
AWAKE = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=Now())
# NEXT_DUE, NO_DUE (tickets.models): the next SLA due time, indexed for the "due" sort
# and the SLA filters.


def view_filter(view: str, user: User) -> Q:
    return _status_filter(view, user) & snooze_filter(view)


def snooze_filter(view: str) -> Q:
    """What a view keeps of snoozed tickets: the open ones show none, Snoozed only them."""
    match view:
        case "snoozed":
            return SNOOZED
        case "pending" | "solved" | "all":
            return Q()
        case _:
            return AWAKE


def _status_filter(view: str, user: User) -> Q:
    match view:
        case "unassigned":
            # Newsletters (tickets.services.courtesy) wait in All open, not here.
            return Q(status__in=OPEN_STATUSES, assignee__isnull=True) & ~Q(
                tags__contains=[NEWSLETTER_TAG]
            )
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
    channel: str = ""
    tag: str = ""
    # An agent's id, or "none" for unassigned tickets.
    assignee: str = ""
    mailbox: int | None = None
    team: int | None = None
    sort: str = "updated"
    sla: str = ""
    cursor: str = ""
    limit: int = PAGE_SIZE
    # Custom fields: (`field.<key>`, value) pairs, as services.field_filters reads them.
    fields: tuple[tuple[str, str], ...] = ()


@dataclass
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str = ""
    is_first: bool = True


def filtered_tickets(
    user: User, query: InboxQuery, now: datetime | None = None
) -> QuerySet[Ticket]:
    """The view and filters, without sort or pagination; shared by the list and bulk."""
    return _filtered(Ticket.objects.visible_to(user), user, query, now)


def _filtered(
    qs: QuerySet[Ticket], user: User, query: InboxQuery, now: datetime | None = None
) -> QuerySet[Ticket]:
    base = view_filter(query.view, user)
    if query.status:
        # An explicit status filter replaces the view's own status set.
        if query.view == "unassigned":
            base = Q(assignee__isnull=True) & ~Q(tags__contains=[NEWSLETTER_TAG])
        elif query.view == "mine":
            base = Q(assignee=user)
        else:
            base = Q()
        base &= Q(status=query.status) & snooze_filter(query.view)
    qs = qs.filter(base)
    if query.priority:
        qs = qs.filter(priority=query.priority)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.channel:
        qs = qs.filter(channel=query.channel)
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
    if query.fields:
        qs = qs.filter(field_filters(dict(query.fields)))
    if query.sla:
        qs = qs.annotate(next_due=NEXT_DUE)
        if query.status not in OPEN_STATUSES:  # redundant beside an open status
            qs = qs.filter(status__in=OPEN_STATUSES)
        now = now or timezone.now()
        if query.sla == "overdue":
            qs = qs.filter(next_due__lte=now)
        elif query.sla == "soon":
            qs = qs.filter(next_due__gt=now, next_due__lte=now + timedelta(hours=1))
        else:
            qs = qs.filter(next_due__lt=NO_DUE)
    return qs


def inbox_tickets(user: User, query: InboxQuery) -> InboxPage:
    """One page of the inbox: one query (up to four for the priority sort), keyset-paginated."""
    if query.sort == "priority":
        return _by_priority(_rows_of(filtered_tickets(user, query)), query)
    position = _cursor_position(query.cursor) if query.cursor else None
    # A field filter's SQL follows the field's definition, which can change: not held.
    if query.fields:
        return _page(_page_rows(user, query, position), query, is_first=position is None)
    statement = _statement(user, query, position is not None)
    if statement is None:  # no status the view can show, or nobody to show them to
        return _page([], query, is_first=position is None)
    at, number = position or (None, None)
    now = timezone.now()
    values = {"at": at, "number": number, "now": now, "soon": now + timedelta(hours=1)}
    return _page(statement.rows(values), query, is_first=position is None)


def _rows_of(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    # A row shows its mailbox's name: its three encrypted secrets would each cost a Fernet
    # decryption per row (~5% of the page's CPU) if read; INBOX_ROW_FIELDS leaves them out.
    return qs.select_related("customer", "assignee", "mailbox").only(*INBOX_ROW_FIELDS)


def _page_query(
    user: User, query: InboxQuery, position: tuple[datetime, int] | None, now: datetime
) -> QuerySet[Ticket]:
    """The statement of one page (not the priority sort): raises EmptyResultSet when no
    status of the view can show."""
    qs = _rows_of(filtered_tickets(user, query, now))
    if query.sort == "due":
        if "next_due" not in qs.query.annotations:
            qs = qs.annotate(next_due=NEXT_DUE)
        # django-stubs cannot see the annotation added just above.
        qs = qs.order_by("next_due", "number")  # type: ignore[misc]
    elif query.sort == "created":
        qs = qs.order_by("-created_at", "-number")
    else:
        qs = qs.order_by("-updated_at", "-number")
    after = _after(*position, query.sort) if position is not None else None
    if after is not None:
        qs = qs.filter(after)
    if query.sort == "updated" and user.is_agent and not user.sees_everything:
        # One agent's tickets (Mine, an assignee filter) are few and mostly in the
        # agent's mailboxes: read per status on ticket_assignee, not per mailbox.
        per_mailbox = query.view != "mine" and query.assignee in ("", "none")
        # Compiled on its own and passed as SQL: nested as a queryset, Django clones and
        # relabels its four subqueries again (6.5 ms of CPU per page instead of 2.5).
        newest = _newest_per_mailbox(user, query, after, query.limit + 1, per_mailbox, now)
        compiled = newest.query.sql_with_params()
        qs = qs.filter(number__in=RawSQL(*compiled))  # noqa: S611 - Django's own compiled SQL
    return qs[: query.limit + 1]


def _page_rows(
    user: User, query: InboxQuery, position: tuple[datetime, int] | None
) -> list[Ticket]:
    try:
        return list(_page_query(user, query, position, timezone.now()))
    except EmptyResultSet:
        return []


_STATEMENTS: dict[tuple[Any, ...], Statement | None] = {}


def _statement(user: User, query: InboxQuery, with_cursor: bool) -> Statement | None:
    """The page's statement for this viewer and query, compiled once per process (the
    statement names the viewer's id and role, never their mailboxes: a subquery, so it
    holds while they change)."""
    key: tuple[Any, ...] = (
        user.pk,
        user.role,
        user.is_superuser,
        user.is_active,
        replace(query, cursor=""),
        with_cursor,
    )
    if key in _STATEMENTS:
        return _STATEMENTS[key]

    def page(values: dict[str, Any]) -> QuerySet[Ticket]:
        position = (values["at"], values["number"]) if with_cursor else None
        return _page_query(user, query, position, values["now"])

    statement = compile_with_stand_ins(page)
    if len(_STATEMENTS) >= 2000:  # a bound, whatever tags are typed
        _STATEMENTS.clear()
    _STATEMENTS[key] = statement
    return statement


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
    user: User,
    query: InboxQuery,
    after: Q | None,
    count: int,
    per_mailbox: bool = True,
    now: datetime | None = None,
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
        tickets = _filtered(base, user, replace(query, status=status), now)
        if after is not None:
            tickets = tickets.filter(after)
        top = tickets.filter(mailbox_id=OuterRef("mailbox_id")) if per_mailbox else tickets
        array = ArraySubquery(top.order_by("-updated_at", "-number").values("number")[:count])
        newest = array if newest is None else Func(newest, array, function="", arg_joiner=" || ")
    if newest is None:
        return Ticket.objects.none().values("number")
    unnest = Func(newest, function="unnest", output_field=BigIntegerField())
    mailboxes = Mailbox.teams.through.objects.filter(team__members=user)
    # django-stubs cannot see the annotation of the same line.
    return mailboxes.annotate(ticket_number=unnest).values("ticket_number")  # type: ignore[misc]


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
    label: str | Promise
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
    # The saved views the viewer may open (tickets.saved_views.view_counts).
    saved: list[ViewCount] = field(default_factory=list)


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
    for key in ("unassigned", "mine", "open", "pending", "snoozed", "solved"):
        n = _capped_count(visible.filter(view_filter(key, user)))
        counts.views.append(ViewCount(key, VIEWS[key], n, f"view={key}"))
    open_tickets = visible.filter(view_filter("open", user))
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
    agents = (
        User.objects.assignable(mailbox.pk) if mailbox is not None else User.objects.acting_agents()
    )
    return agents.order_by("first_name", "email")


def viewer_mailboxes(user: User) -> list[int] | None:
    """The mailboxes an active agent sees, from the held directory (tickets.directory,
    reloaded after any change to a membership), or None for one who sees every ticket:
    the rule of `Ticket.objects.visible_to` for agents, as a value the ticket page's
    compiled statements take (`mailbox_id = ANY(%s)`) instead of a subquery built each
    time."""
    if user.sees_everything:
        return None
    return [box.pk for box in directory.visible_mailboxes(user)]


def in_mailboxes(queryset: QuerySet[Ticket] | Manager[Ticket], mailboxes: Any) -> QuerySet[Ticket]:
    """`queryset` limited to tickets of `mailboxes` (an array: one parameter whatever its
    length, so a compiled statement serves every viewer)."""
    array = Value(mailboxes, output_field=ArrayField(BigIntegerField()))
    return queryset.filter(EqualsAny(F("mailbox_id"), array))


# Marker values for Prepared (helpdesk.postgres): no row has them.
_TICKET, _CUSTOMER, _MAILBOXES = -7_010_101, -7_020_202, [-7_030_303]

# The conversation, oldest first, with authors and attachments: one query (the search
# vector, never shown, left unread).
_CONVERSATION = Prepared(
    lambda ticket: (
        Message.objects.filter(ticket_id=ticket)
        .select_related("author")
        .defer("search_vector")
        .order_by("created_at", "id")
        .with_attachment_rows()
    ),
    ticket=_TICKET,
)


def ticket_conversation(ticket: Ticket) -> list[Message]:
    """The messages of a ticket, oldest first, with authors and attachments: one query
    (the search vector, never shown, left unread)."""
    messages = _CONVERSATION.rows(ticket=ticket.pk)
    for message in messages:
        message.ticket = ticket  # as ticket.messages would leave it: no query to read it
    return attach_rows(messages, _CONVERSATION.db)


def _events(ticket: int) -> QuerySet[TicketEvent]:
    shape = Ticket(pk=ticket)
    return history_events(shape).select_related("actor").order_by("-at", "-id")[:200]


_EVENTS = Prepared(_events, ticket=_TICKET)


def ticket_events(ticket: Ticket) -> list[TicketEvent]:
    """The newest 200 events first; assignee changes carry the agents' names (one query; a
    second only for an address that is no agent's today)."""
    events: list[TicketEvent] = _EVENTS.rows(ticket=ticket.pk)
    emails = {
        value
        for event in events
        if event.kind == EventKind.ASSIGNEE
        for value in (event.before, event.after)
        if isinstance(value, str)
    }
    names = directory.names_by_email(emails)
    for event in events:
        event.names = names  # type: ignore[attr-defined]
    return events


def _other_tickets(customer: int, ticket: int, mailboxes: Any = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all() if mailboxes is None else in_mailboxes(Ticket.objects, mailboxes)
    return (
        tickets.filter(customer_id=customer)
        .exclude(pk=ticket)
        .only("subject", "status", "created_at")
        .order_by("-created_at")[:10]
    )


_OTHER_TICKETS = Prepared(_other_tickets, customer=_CUSTOMER, ticket=_TICKET)
_OTHER_TICKETS_IN = Prepared(
    _other_tickets, customer=_CUSTOMER, ticket=_TICKET, mailboxes=_MAILBOXES
)


def customer_other_tickets(user: User, ticket: Ticket) -> list[Ticket]:
    """The customer's other tickets the agent may see, newest first, ten at most (index
    ticket_customer)."""
    if not (user.is_agent and user.is_active):
        return list(
            Ticket.objects.visible_to(user)
            .filter(customer_id=ticket.customer_id)
            .exclude(pk=ticket.pk)
            .only("subject", "status", "created_at")
            .order_by("-created_at")[:10]
        )
    mailboxes = viewer_mailboxes(user)
    if mailboxes is None:
        return _OTHER_TICKETS.rows(customer=ticket.customer_id, ticket=ticket.pk)
    return _OTHER_TICKETS_IN.rows(
        customer=ticket.customer_id, ticket=ticket.pk, mailboxes=mailboxes
    )


def next_in_view(user: User, query: InboxQuery, position: str, current: int) -> Ticket | None:
    """The ticket after `position` (the cursor of the ticket the agent just answered, as
    it was listed) in the view, or else the view's first ticket other than `current`."""
    if position:
        after = inbox_tickets(user, replace(query, cursor=position, limit=1)).tickets
        if after:
            return after[0]
    first = inbox_tickets(user, replace(query, cursor="", limit=2)).tickets
    return next((ticket for ticket in first if ticket.pk != current), None)
