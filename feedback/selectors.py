"""Every named read of feedback items: the agent's list and item page, the ticket page's
panel, the portal's "my feedback", the public roadmap and the changelog.

Visibility: agents see every item (items hold no customer words), but the tickets named
on an item page are only those the agent may open (`Ticket.objects.visible_to`); a
customer sees the items they asked for themselves; the roadmap shows public items only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone

from feedback.health import health_scores
from feedback.models import Ask, AskVia, FeedbackItem, ItemStatus, Notice, ProductUpdate
from tickets.models import Customer, FieldDefinition, Organization, Ticket, User
from tickets.models.fields import CHOICE_TYPES, AppliesTo
from tickets.services.fields import definitions

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    CountedItem = WithAnnotations[FeedbackItem, "ItemCounts"]

PAGE_SIZE = 25
TREND_WEEKS = 8
ROADMAP_STATUSES = (ItemStatus.UNDER_REVIEW, ItemStatus.PLANNED, ItemStatus.SHIPPED)


class ItemCounts(TypedDict):
    asker_count: int
    ticket_count: int
    vote_count: int
    told_count: int


def with_counts(
    items: QuerySet[FeedbackItem],
) -> QuerySet[CountedItem]:
    """Each item with the number of customers who asked, of tickets linked, of votes, and
    of customers told."""
    return items.annotate(
        asker_count=Count("asks__customer", distinct=True),
        ticket_count=Count("asks", filter=Q(asks__via=AskVia.TICKET), distinct=True),
        vote_count=Count("asks", filter=Q(asks__via=AskVia.VOTE), distinct=True),
        told_count=Count("notices", distinct=True),
    )


def agent_items(
    *, status: str = "", kind: str = "", public: str = "", query: str = "", page: Any = 1
) -> Page[CountedItem]:
    """The agent's list: filtered, most asked first, a page of PAGE_SIZE."""
    items = FeedbackItem.objects.all()
    if status:
        items = items.filter(status=status)
    if kind:
        items = items.filter(kind=kind)
    if public in ("yes", "no"):
        items = items.filter(public=public == "yes")
    if query.strip():
        items = items.filter(
            Q(title__icontains=query.strip()) | Q(description__icontains=query.strip())
        )
    items = with_counts(items).order_by("-asker_count", "-updated_at", "-id")
    return Paginator(items, PAGE_SIZE).get_page(page)


def item_with_counts(pk: int) -> FeedbackItem:
    item = with_counts(FeedbackItem.objects.filter(pk=pk)).first()
    if item is None:
        raise Http404("No such feedback item.")
    return item


@dataclass
class Asker:
    """One customer who asked, or one organization whose people asked."""

    name: str
    kind: str  # "customer" or "organization"
    pk: int
    organization: Organization | None = None
    plan: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    health: int | None = None
    via: set[str] = field(default_factory=set)
    tickets: list[int] = field(default_factory=list)  # numbers the viewer may open
    customers: int = 0  # of an organization: how many of its people asked
    first_asked: datetime | None = None
    told: bool = False


def plan_fields(applies_to: str) -> list[FieldDefinition]:
    """The field named by FEEDBACK_PLAN_FIELD, or every active choice field."""
    defined = definitions(applies_to)
    named = defined.get(settings.FEEDBACK_PLAN_FIELD)
    if named is not None:
        return [named]
    return [d for d in defined.values() if d.type in CHOICE_TYPES]


def _plan(values: dict[str, Any], fields: list[FieldDefinition]) -> list[tuple[str, str]]:
    shown = []
    for definition in fields:
        value = values.get(definition.key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        shown.append((definition.label, "" if value in (None, "") else str(value)))
    return shown


@dataclass
class Askers:
    customers: list[Asker]
    organizations: list[Asker]


def item_askers(item: FeedbackItem, viewer: User) -> Askers:
    """The customers who asked (first ask first) and their organizations (most people
    first), with plan fields, health when it is kept, and the linked tickets the viewer
    may open. Four queries whatever the number of people."""
    asks = list(
        Ask.objects.filter(item=item)
        .select_related("customer__organization")
        .order_by("created_at", "id")
    )
    visible = set(
        Ticket.objects.visible_to(viewer)
        .filter(pk__in=[a.ticket_id for a in asks if a.ticket_id])
        .values_list("pk", flat=True)
    )
    told = set(Notice.objects.filter(item=item).values_list("customer_id", flat=True))
    customer_fields, org_fields = (
        plan_fields(AppliesTo.CUSTOMER),
        plan_fields(AppliesTo.ORGANIZATION),
    )
    people: dict[int, Asker] = {}
    orgs: dict[int, Asker] = {}
    for ask in asks:
        customer = ask.customer
        row = people.get(customer.pk)
        if row is None:
            row = people[customer.pk] = Asker(
                name=customer.display_name,
                kind="customer",
                pk=customer.pk,
                organization=customer.organization,
                plan=_plan(customer.fields, customer_fields),
                first_asked=ask.created_at,
                told=customer.pk in told,
            )
            org = customer.organization
            if org is not None:
                org_row = orgs.get(org.pk)
                if org_row is None:
                    org_row = orgs[org.pk] = Asker(
                        name=org.name,
                        kind="organization",
                        pk=org.pk,
                        plan=_plan(org.fields, org_fields),
                        first_asked=ask.created_at,
                    )
                org_row.customers += 1
        row.via.add(ask.via)
        if ask.ticket_id in visible:
            row.tickets.append(ask.ticket_id)
    for kind, rows in (("customer", people), ("organization", orgs)):
        for pk, score in health_scores(kind, list(rows)).items():
            if pk in rows:
                rows[pk].health = score
    return Askers(
        customers=list(people.values()),
        organizations=sorted(orgs.values(), key=lambda r: (-r.customers, r.name)),
    )


def trend(item: FeedbackItem, *, weeks: int = TREND_WEEKS) -> list[tuple[date, int]]:
    """Asks per week (Monday to Sunday), the last `weeks` weeks, oldest first, zeros too."""
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = {
        row["week"].date() if isinstance(row["week"], datetime) else row["week"]: row["n"]
        for row in Ask.objects.filter(item=item, created_at__gte=start)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
    }
    return [
        (first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
        for i in range(weeks)
    ]


def askers_to_tell(item: FeedbackItem) -> tuple[list[Customer], int]:
    """The customers who asked and were not told yet (with an address), and how many were."""
    asked = Customer.objects.filter(
        Exists(Ask.objects.filter(item=item, customer=OuterRef("pk")))
    ).exclude(email="")
    told = Notice.objects.filter(item=item, customer=OuterRef("pk"))
    pending = list(asked.filter(~Exists(told)).order_by("pk"))
    return pending, Notice.objects.filter(item=item).count()


@dataclass
class TicketPanel:
    linked: list[FeedbackItem]  # the items the ticket is linked to
    choices: list[FeedbackItem]  # the items it may be linked to: open ones, not linked yet


def ticket_panel(ticket: Ticket, limit: int = 200) -> TicketPanel:
    """The ticket page's feedback panel, in one query: the items linked to the ticket
    (first, whatever their status) and up to `limit` others that are not declined."""
    items = (
        FeedbackItem.objects.annotate(
            linked=Exists(Ask.objects.filter(item=OuterRef("pk"), ticket=ticket))
        )
        .filter(Q(linked=True) | ~Q(status=ItemStatus.DECLINED))
        .order_by("-linked", "title", "id")[:limit]
    )
    panel = TicketPanel(linked=[], choices=[])
    for item in items:
        (panel.linked if item.linked else panel.choices).append(item)
    return panel


def customer_items(customer: Customer) -> list[FeedbackItem]:
    """The portal: the items this customer asked for themselves (a ticket of theirs that
    an agent linked, their vote or follow), and nothing else."""
    return list(
        FeedbackItem.objects.filter(
            Exists(Ask.objects.filter(item=OuterRef("pk"), customer=customer))
        ).order_by("-updated_at", "-id")
    )


def roadmap() -> dict[str, list[FeedbackItem]]:
    """Public items by status (declined ones are not shown), most voted first."""
    by_status: dict[str, list[FeedbackItem]] = defaultdict(list)
    items = with_counts(FeedbackItem.objects.filter(public=True, status__in=ROADMAP_STATUSES))
    for item in items.order_by("-vote_count", "-updated_at", "-id"):
        by_status[item.status].append(item)
    return {status: by_status.get(status, []) for status in ROADMAP_STATUSES}


def on_roadmap(pk: int) -> bool:
    """Whether the item is public now (a declined item leaves the roadmap)."""
    return FeedbackItem.objects.filter(pk=pk, public=True, status__in=ROADMAP_STATUSES).exists()


def public_item(pk: int) -> FeedbackItem:
    """A roadmap item, or 404 for anything not public (a draft, a declined item)."""
    item = with_counts(
        FeedbackItem.objects.filter(pk=pk, public=True, status__in=ROADMAP_STATUSES)
    ).first()
    if item is None:
        raise Http404("No such item on the roadmap.")
    return item


def customer_asks(item: FeedbackItem, customer: Customer | None) -> set[str]:
    """How this customer asks for the item: a subset of {"ticket", "vote", "follow"}."""
    if customer is None:
        return set()
    return set(Ask.objects.filter(item=item, customer=customer).values_list("via", flat=True))


def updates(page: Any = 1) -> Page[ProductUpdate]:
    return Paginator(
        ProductUpdate.objects.select_related("item").order_by("-published_at", "-id"), 10
    ).get_page(page)
