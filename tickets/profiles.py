"""Read paths of the customer and organization pages and of the people search.

Agents may open any customer's or organization's profile (a customer with no ticket in
their mailboxes is still someone they may need to write to); what the timeline shows of
tickets, messages and survey answers goes through Ticket.objects.visible_to, like every
other list of the workspace.

The timeline is a merge of sources, each read newest first from the cursor on, at most
one page of each (one query per source): tickets opened (support, outreach, success
follow-ups), messages on them, and what the apps above add (`hooks.timeline_entries`:
the survey answers of metrics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from helpdesk.postgres import trigram_available
from tickets import hooks
from tickets.models import (
    Channel,
    Customer,
    CustomerEmail,
    Direction,
    Kind,
    Message,
    Organization,
    Ticket,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TIMELINE_PAGE = 25
PEOPLE_LIMIT = 8
ORGANIZATION_MEMBERS = 100
# word_similarity(query, name) from which a name counts as a typo-tolerant match:
# "Li Wie" is 0.57 of "Li Wei", "Sam Patle" 0.7 of "Sam Patel".
TRIGRAM_THRESHOLD = 0.5
# The order of sources among entries of the same instant (the cursor's tie-breaker).
SOURCES = ("ticket", "message", "survey")
# A success follow-up's tag (tickets/workflow/follow_ups.py names it; the core only reads it).
FOLLOW_UP_TAG = "success-follow-up"


def get_customer_for(user: User, customer_id: int) -> Customer:
    """A customer's profile for an agent, with their organization and other addresses."""
    customer = (
        Customer.objects.select_related("organization")
        .prefetch_related("emails")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None or not user.is_agent:
        raise Http404("No such customer")
    return customer


def get_organization_for(user: User, organization_id: int) -> Organization:
    organization = (
        Organization.objects.select_related("success_contact")
        .prefetch_related("domains")
        .filter(pk=organization_id)
        .first()
    )
    if organization is None or not user.is_agent:
        raise Http404("No such organization")
    return organization


def organization_members(organization: Organization) -> tuple[list[Customer], int]:
    """The first members by name, and how many there are."""
    members = organization.customers.order_by("name", "email")
    return list(members[:ORGANIZATION_MEMBERS]), members.count()


# --- the timeline ---------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str  # one of SOURCES
    pk: int
    label: StrOrPromise  # what happened: "Ticket opened", "Reply", "CSAT answer"...
    css: str  # the entry's kind for styling: ticket, outreach, follow-up, inbound...
    title: str
    text: str = ""
    ticket_number: int | None = None

    @property
    def key(self) -> tuple[datetime, int, int]:
        return (self.at, SOURCES.index(self.source), self.pk)


@dataclass(frozen=True)
class TimelineQuery:
    """What a timeline source reads: the viewer's view of these customers' history,
    older than `before` (an entry's key), at most `limit` entries, newest first."""

    viewer: User
    customer_ids: list[int]
    before: tuple[datetime, int, int] | None = None
    limit: int = TIMELINE_PAGE

    def older(self, at_field: str, source: str) -> Q:
        """The filter of a source's rows older than the cursor (ordered by at, pk)."""
        if self.before is None:
            return Q()
        at, rank, pk = self.before
        mine = SOURCES.index(source)
        if mine < rank:
            return Q(**{f"{at_field}__lte": at})
        if mine > rank:
            return Q(**{f"{at_field}__lt": at})
        return Q(**{f"{at_field}__lt": at}) | Q(**{at_field: at, "pk__lt": pk})

    def visible_tickets(self) -> QuerySet[Ticket]:
        return Ticket.objects.visible_to(self.viewer).filter(customer_id__in=self.customer_ids)


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str = ""
    customers: dict[int, str] = field(default_factory=dict)


def encode_cursor(entry: TimelineEntry) -> str:
    return f"{entry.at.isoformat()}~{entry.source}~{entry.pk}"


def decode_cursor(text: str) -> tuple[datetime, int, int] | None:
    """A cursor from the query string; None (the first page) for anything malformed."""
    parts = text.split("~")
    if len(parts) != 3 or parts[1] not in SOURCES or not parts[2].isdecimal():
        return None
    try:
        at = datetime.fromisoformat(parts[0].replace(" ", "+"))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return (at, SOURCES.index(parts[1]), int(parts[2]))


def _ticket_entry(ticket: Ticket) -> TimelineEntry:
    if FOLLOW_UP_TAG in ticket.tags:
        label, css = gettext("Success follow-up"), "follow-up"
    elif ticket.channel == Channel.OUTBOUND:
        label, css = gettext("Outreach"), "outreach"
    elif ticket.kind == Kind.SERVICE:
        label, css = gettext("Service ticket"), "service"
    else:
        label = gettext("Ticket opened (%(channel)s)") % {"channel": ticket.get_channel_display()}
        css = "ticket"
    return TimelineEntry(
        ticket.created_at, "ticket", ticket.pk, label, css, ticket.subject, "", ticket.pk
    )


_MESSAGE_LABELS: dict[str, tuple[StrOrPromise, str]] = {
    Direction.INBOUND: (gettext_lazy("Customer wrote"), "inbound"),
    Direction.OUTBOUND: (pgettext_lazy("a message", "Reply"), "outbound"),
    Direction.NOTE: (gettext_lazy("Internal note"), "note"),
}


def _message_entry(message: Message) -> TimelineEntry:
    label, css = _MESSAGE_LABELS.get(message.direction, (gettext_lazy("Message"), "message"))
    if message.direction == Direction.OUTBOUND and message.automatic:
        label = gettext("Automatic message")
    return TimelineEntry(
        message.created_at,
        "message",
        message.pk,
        label,
        css,
        message.ticket.subject,
        " ".join(message.body_text[:400].split()),
        message.ticket_id,
    )


def _tickets(query: TimelineQuery) -> list[TimelineEntry]:
    rows = (
        query.visible_tickets()
        .filter(query.older("created_at", "ticket"))
        .only("number", "subject", "created_at", "channel", "kind", "tags")
        .order_by("-created_at", "-pk")[: query.limit]
    )
    return [_ticket_entry(ticket) for ticket in rows]


def _messages(query: TimelineQuery) -> list[TimelineEntry]:
    rows = (
        Message.objects.filter(ticket__in=query.visible_tickets().values("pk"))
        .filter(query.older("created_at", "message"))
        .select_related("ticket")
        .only(
            "created_at",
            "direction",
            "automatic",
            "body_text",
            "ticket_id",
            "ticket__subject",
        )
        .order_by("-created_at", "-pk")[: query.limit]
    )
    return [_message_entry(message) for message in rows]


def timeline(viewer: User, customer_ids: list[int], cursor: str = "") -> TimelinePage:
    """One page of everything that happened with these customers, newest first: one
    query per source (tickets, messages, then each of `hooks.timeline_entries`)."""
    query = TimelineQuery(viewer, customer_ids, decode_cursor(cursor))
    entries = [*_tickets(query), *_messages(query), *hooks.timeline_entries(query)]
    entries.sort(key=lambda entry: entry.key, reverse=True)
    page = entries[: query.limit]
    more = len(entries) > query.limit
    return TimelinePage(page, encode_cursor(page[-1]) if more and page else "")


# --- people search ------------------------------------------------------------------


@dataclass
class PeopleResults:
    customers: list[Customer]
    organizations: list[Organization]

    def __bool__(self) -> bool:
        return bool(self.customers or self.organizations)


def search_people(user: User, text: str) -> PeopleResults:
    """Customers by name or any address, organizations by name or domain, for an agent,
    best first: exact matches, then substring matches ranked by word similarity; only
    when neither side finds anything, the names a typo away (pg_trgm's `%>`, where it is
    installed). One query of ids for both sides (plus a transaction of two, setting the
    typo threshold, when it falls back to typos), then one per side for the rows shown."""
    text = text.strip()[:200]
    if len(text) < 2 or not user.is_agent:
        return PeopleResults([], [])
    customer_ids, organization_ids = _ranked_ids(_CUSTOMER_MATCHES, _ORGANIZATION_MATCHES, text)
    if not customer_ids and not organization_ids and trigram_available():
        with transaction.atomic(), connection.cursor() as cursor:
            # `%>` compares against this threshold; is_local=true keeps the change
            # inside this transaction.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                [str(TRIGRAM_THRESHOLD)],
            )
            customer_ids, organization_ids = _ranked_ids(_CUSTOMER_TYPOS, _ORGANIZATION_TYPOS, text)
    customers = (
        Customer.objects.select_related("organization")
        .annotate(ticket_count=_count(_visible(user).filter(customer_id=OuterRef("pk"))))
        .in_bulk(customer_ids)
        if customer_ids
        else {}
    )
    organizations = (
        Organization.objects.annotate(
            member_count=_count(Customer.objects.filter(organization_id=OuterRef("pk")))
        ).in_bulk(organization_ids)
        if organization_ids
        else {}
    )
    return PeopleResults(
        [customers[pk] for pk in customer_ids if pk in customers],
        [organizations[pk] for pk in organization_ids if pk in organizations],
    )


# Each branch of the people search yields at most this many candidates before they are
# ranked: a word common in names (the bench's customers are "Printer Admin", "Invoice
# Setting"...) matches thousands of them. Ranking all of those by similarity and counting
# the tickets of each, in a sequential scan (`UPPER(name) LIKE`, what icontains writes,
# is in no index; nor is an OR of it with `%>`), was 700-1,050 ms of the search page at
# 100k tickets. Exact matches are branches of their own, so the cap never hides them.
PEOPLE_CANDIDATES = 200
# Each branch is served by its own index: the name on customer_name_upper, addresses
# and domains on their unique btrees, substrings (ILIKE) and typos (`%>`) on the trigram
# indexes of migrations 0020 and 0022.
_CUSTOMER_MATCHES = f"""
    (SELECT id, true AS exact FROM tickets_customer WHERE upper(name) = upper(%(text)s))
    UNION ALL (SELECT id, true FROM tickets_customer WHERE email = %(email)s)
    UNION ALL (SELECT customer_id, true FROM tickets_customeremail WHERE email = %(email)s)
    UNION ALL (SELECT id, false FROM tickets_customer WHERE name ILIKE %(like)s
               LIMIT {PEOPLE_CANDIDATES})
    UNION ALL (SELECT id, false FROM tickets_customer WHERE email ILIKE %(like)s
               LIMIT {PEOPLE_CANDIDATES})
    UNION ALL (SELECT customer_id, false FROM tickets_customeremail WHERE email ILIKE %(like)s
               LIMIT {PEOPLE_CANDIDATES})"""  # noqa: S608 (constants only)
_ORGANIZATION_MATCHES = f"""
    (SELECT id, true AS exact FROM tickets_organization WHERE name ILIKE %(exact)s)
    UNION ALL (SELECT organization_id, true FROM tickets_organizationdomain
                WHERE domain = %(domain)s)
    UNION ALL (SELECT id, false FROM tickets_organization WHERE name ILIKE %(like)s
               LIMIT {PEOPLE_CANDIDATES})
    UNION ALL (SELECT organization_id, false FROM tickets_organizationdomain
                WHERE domain ILIKE %(like)s LIMIT {PEOPLE_CANDIDATES})"""  # noqa: S608 (constants only)
_CUSTOMER_TYPOS = f"""
    (SELECT id, false AS exact FROM tickets_customer WHERE name %%> %(text)s
     LIMIT {PEOPLE_CANDIDATES})
    UNION ALL (SELECT id, false FROM tickets_customer WHERE email %%> %(text)s
               LIMIT {PEOPLE_CANDIDATES})"""  # noqa: S608 (constants only)
_ORGANIZATION_TYPOS = f"""
    (SELECT id, false AS exact FROM tickets_organization WHERE name %%> %(text)s
     LIMIT {PEOPLE_CANDIDATES})"""  # noqa: S608 (constants only)


def _ranked_ids(customers: str, organizations: str, text: str) -> tuple[list[int], list[int]]:
    """The best PEOPLE_LIMIT customers and organizations among the candidates: exact
    matches first, then by word similarity (where pg_trgm is installed), then by name."""
    similar = trigram_available()
    customer_score = (
        "greatest(word_similarity(%(text)s, c.name), word_similarity(%(text)s, c.email)) DESC,"
        if similar
        else ""
    )
    organization_score = "word_similarity(%(text)s, o.name) DESC," if similar else ""
    sql = f"""
        WITH customers AS ({customers}), organizations AS ({organizations})
        (SELECT 'customer', c.id FROM tickets_customer c
           JOIN (SELECT id, bool_or(exact) AS exact FROM customers GROUP BY id) f USING (id)
          ORDER BY f.exact DESC, {customer_score} c.name, c.id LIMIT {PEOPLE_LIMIT})
        UNION ALL
        (SELECT 'organization', o.id FROM tickets_organization o
           JOIN (SELECT id, bool_or(exact) AS exact FROM organizations GROUP BY id) f USING (id)
          ORDER BY f.exact DESC, {organization_score} o.name, o.id LIMIT {PEOPLE_LIMIT})
    """  # noqa: S608 (constants only; the text is in params)
    params = {
        "text": text,
        "email": text.lower(),
        "domain": text.rpartition("@")[2].lower(),
        "exact": connection.ops.prep_for_like_query(text),
        "like": f"%{connection.ops.prep_for_like_query(text)}%",
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return (
        [pk for kind, pk in rows if kind == "customer"],
        [pk for kind, pk in rows if kind == "organization"],
    )


def _count(rows: QuerySet) -> Coalesce:
    """The number of `rows` (a queryset correlated with OuterRef), as an annotation
    computed for the few rows shown only."""
    counted = rows.order_by().annotate(group=Value(1)).values("group")
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), 0)


def _visible(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user)


def customers_named(text: str) -> list[int]:
    """The customers a search names outright (their name, or one of their addresses, is
    the whole query): the ticket search adds all their tickets (the caller filters by
    visibility). One query; at most 20."""
    text = " ".join(text.split())[:200]
    if len(text) < 2 or re.fullmatch(r"#?\d+", text):
        return []
    # Three lookups, each on its own index (the name on customer_name_upper, the
    # addresses on their unique btrees), as a UNION: as one filter with OR (and an IN
    # subquery) no index served it, and every search read the whole customer table
    # (350 ms at 200,000 customers).
    email = text.lower()
    by_name = Customer.objects.filter(name__iexact=text).order_by().values_list("pk", flat=True)
    by_email = Customer.objects.filter(email=email).order_by().values_list("pk", flat=True)
    by_other = CustomerEmail.objects.filter(email=email).order_by().values_list("customer_id")
    return list(by_name.union(by_email, by_other).order_by()[:20])
