"""The ticket: its states, priorities, kinds and channels, and the queries that read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from tickets.models.mailboxes import Mailbox
from tickets.models.messages import Direction, Message
from tickets.models.people import Customer, Organization, Team, User

if TYPE_CHECKING:
    pass


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status for agents", "New")
    OPEN = "open", pgettext_lazy("ticket status for agents", "Open")
    PENDING = "pending", pgettext_lazy("ticket status for agents", "Pending")
    ON_HOLD = "on_hold", pgettext_lazy("ticket status for agents", "On hold")
    SOLVED = "solved", pgettext_lazy("ticket status for agents", "Solved")
    CLOSED = "closed", pgettext_lazy("ticket status for agents", "Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# The dashboard filters of SLA compliance, carried by its indexes.
SLA_COMPLIANCE_COLUMNS = ["kind", "team", "assignee", "mailbox"]
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)

# The longest address an EmailField stores (its default max_length); Django's email
# validator alone lets through up to 320 characters.
EMAIL_MAX_LENGTH = 254


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")


# Keyed by the stored value, a plain str on a loaded row.
PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


class Kind(models.TextChoices):
    SUPPORT = "support", pgettext_lazy("ticket kind", "Support")
    SERVICE = "service", pgettext_lazy("ticket kind", "Service")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    OUTBOUND = "outbound", _("Outbound")
    IMPORT = "import", _("Import")
    # Recorded by an agent on the customer's behalf ("New ticket on behalf").
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    WALK_IN = "walk_in", _("Walk-in")


# The channels an agent may record a ticket through, in the order the form offers them.
RECORDED_CHANNELS = (
    Channel.PHONE,
    Channel.CHAT,
    Channel.WALK_IN,
    Channel.EMAIL,
    Channel.PORTAL,
    Channel.API,
)


class EqualsAny(models.Lookup):
    """`lhs = ANY(rhs)` for an array rhs, e.g. an ArraySubquery."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# Tickets without an SLA sort after every due time in the inbox's "due" sort.
NO_DUE = datetime(9999, 1, 1, tzinfo=UTC)
# The next SLA target an open ticket must meet: the first reply while none was sent, and
# the resolution; LEAST ignores the NULL of a target that does not apply. Indexed
# (ticket_next_due) for the inbox's "due" sort and SLA filters.
NEXT_DUE = Coalesce(
    Least(
        Case(When(first_response_at__isnull=True, then=F("first_response_due_at"))),
        F("resolution_due_at"),
    ),
    Value(NO_DUE),
)


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user: User) -> TicketQuerySet:
        """The permission rule, in one place: see tickets.access for the 404 helpers."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_agent:
            if user.sees_everything:
                return self
            # mailbox_id = ANY(ARRAY(SELECT ...)): PostgreSQL computes the agent's mailboxes
            # once (an InitPlan) and filters each ticket as it is read. As `IN (SELECT ...)`
            # it became a semi-join placed after the joins of select_related, so an inbox
            # page joined every newer ticket of the other mailboxes before dropping it: at
            # 1M tickets, with 25,000 newer ones in a mailbox the agent does not see, the
            # unassigned view took 170 ms, now 19 ms (EXPLAIN ANALYZE).
            mailboxes = Mailbox.teams.through.objects.filter(team__members=user)
            return self.filter(
                EqualsAny(models.F("mailbox_id"), ArraySubquery(mailboxes.values("mailbox_id")))
            )
        shared_orgs = Organization.objects.filter(customers__user=user, shares_tickets=True)
        return self.filter(
            Q(customer__user=user) | Q(customer__organization__in=shared_orgs)
        ).shown_to_customers()

    def shown_to_customers(self) -> TicketQuerySet:
        """Tickets that are the customer's to see: those with a message from or to them.
        A ticket of internal notes only, a success follow-up ("Check in with ...") say,
        is internal until an agent writes to the customer on it. Every customer-facing
        read goes through this (visible_to for customers: the portal's pages, the API;
        the portal's list; the surveys mailed to customers). A merged ticket's messages
        moved to the ticket it continues in, and its page says where: it stays shown. An
        EXISTS on the message_ticket index, per ticket read."""
        public = Message.objects.filter(
            ticket=models.OuterRef("pk"), direction__in=(Direction.INBOUND, Direction.OUTBOUND)
        )
        return self.filter(models.Exists(public) | Q(merged_into__isnull=False))

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def matching(self, text: str, *, include_notes: bool = True) -> TicketQuerySet:
        """Tickets whose subject or any message body matches `text` (web-search syntax).

        A UNION of two GIN-index lookups (ticket_search, message_search): an OR across
        the message join would scan every ticket.
        """
        query = SearchQuery(text, config="english", search_type="websearch")
        messages = Message.objects.annotate(document=MessageSearchDoc()).filter(document=query)
        if not include_notes:
            messages = messages.exclude(direction=Direction.NOTE)
        numbers = (
            Ticket.objects.filter(search_vector=query)
            .values("number")
            .union(messages.values("ticket_id"))
        )
        return self.filter(number__in=numbers)


# Search finds messages newest month first (tickets/search.py, search_tickets): each
# message's vector plus a lexeme naming its 30-day period since 1970, "zm<n>", so that one
# GIN index answers "matches of this word in these months" without reading old rows.
SEARCH_MONTH_SECONDS = 30 * 86400


def message_search_doc(vector: str, created_at: str) -> str:
    """The indexed search document of a message, as SQL over its two columns' SQL."""
    return (
        f"({vector} || array_to_tsvector(ARRAY['zm' || floor(extract(epoch FROM "
        f"({created_at} - to_timestamp(0))) / {SEARCH_MONTH_SECONDS})::bigint::text]))"
    )


class MessageSearchDoc(models.Func):
    """message_search_doc() as an ORM expression, so a filter on it can use the index."""

    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(models.F("search_vector"), models.F("created_at"))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        vector, vector_params = compiler.compile(self.source_expressions[0])
        created_at, created_params = compiler.compile(self.source_expressions[1])
        return message_search_doc(vector, created_at), [*vector_params, *created_params]


class Ticket(models.Model):
    # The ticket number is the primary key: people quote it, URLs carry it, and a
    # bigint sequence hands out numbers without races.
    number = models.BigAutoField(primary_key=True)
    subject = models.CharField(max_length=998)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SUPPORT)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="tickets")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    cc = ArrayField(models.EmailField(), default=list, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    linked_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # Workflow state (tickets/workflow/sla.py, collab.py): due times are stored, not
    # computed per request, so inboxes can sort and filter on them with an index.
    sla_policy = models.ForeignKey(
        "workflow.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Custom field values by key (tickets/services/fields.py checks them); filtered with
    # `@>` on the ticket_fields index (selectors.filter_by_field).
    fields = models.JSONField(default=dict, db_default={}, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("subject", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        indexes = [
            # Inbox lists: keyset pagination on (updated_at, number) within a status set.
            models.Index(fields=["status", "-updated_at", "-number"], name="ticket_status_updated"),
            # "Mine" and per-assignee filters.
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee"),
            # Per-mailbox views, the agent permission filter, and the inbox pages of agents
            # who see some mailboxes (selectors._newest_per_mailbox: one ordered scan per
            # mailbox and status, so the ticket number breaks ties in the index too).
            models.Index(
                fields=["mailbox", "status", "-updated_at", "-number"],
                name="ticket_mailbox_updated",
            ),
            models.Index(fields=["team", "status", "-updated_at"], name="ticket_team"),
            # Customer panel: a customer's other tickets, newest first.
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
            # "All" views sorted by recency without a status filter.
            models.Index(fields=["-updated_at", "-number"], name="ticket_updated"),
            # Unassigned view: a partial index over the work queue only.
            models.Index(
                fields=["-updated_at", "-number"],
                condition=Q(
                    assignee__isnull=True, status__in=["new", "open", "pending", "on_hold"]
                ),
                name="ticket_unassigned_open",
            ),
            # The same queue per mailbox, for the unassigned view of an agent who sees
            # some mailboxes (selectors._newest_per_mailbox). Without it PostgreSQL read
            # ticket_unassigned_open filtering by mailbox: 46,000 new tickets of another
            # mailbox at 1M (14 ms; 0.05 ms with it).
            models.Index(
                fields=["mailbox", "status", "-updated_at", "-number"],
                condition=Q(
                    assignee__isnull=True, status__in=["new", "open", "pending", "on_hold"]
                ),
                name="ticket_unassigned_mailbox",
            ),
            # Inbox "Priority" sort of the open views: the selector reads one priority level
            # at a time, each an ordered scan of this index (no sort of every open ticket).
            models.Index(
                fields=["priority", "-updated_at", "-number"],
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_priority",
            ),
            GinIndex(fields=["tags"], name="ticket_tags"),
            GinIndex(fields=["fields"], name="ticket_fields", opclasses=["jsonb_path_ops"]),
            GinIndex(fields=["search_vector"], name="ticket_search"),
            models.Index(fields=["created_at"], name="ticket_created"),
            # SLA beat task and "due soonest" inbox sort: open tickets still awaiting a
            # first reply, by due time.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(
                    first_response_at__isnull=True,
                    status__in=["new", "open", "pending", "on_hold"],
                ),
                name="ticket_first_response_due",
            ),
            # SLA beat task and inbox sort by resolution due time over open tickets.
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_resolution_due",
            ),
            # Dashboard SLA compliance (tickets.workflow.sla.sla_compliance): targets decided in a
            # window, i.e. met or missed then, read index-only with the dashboard filters.
            models.Index(
                Coalesce("first_response_at", "first_response_due_at"),
                condition=Q(first_response_due_at__isnull=False),
                include=[*SLA_COMPLIANCE_COLUMNS, "first_response_at", "first_response_due_at"],
                name="ticket_sla_response_decided",
            ),
            models.Index(
                Coalesce("solved_at", "resolution_due_at"),
                condition=Q(resolution_due_at__isnull=False),
                include=[*SLA_COMPLIANCE_COLUMNS, "solved_at", "resolution_due_at"],
                name="ticket_sla_resolution_decided",
            ),
            # Inbox "SLA due soonest" sort and SLA filters over open tickets: one ordered
            # scan, not a sort of every open ticket (400 ms at 1M for a manager).
            models.Index(
                NEXT_DUE,
                F("number"),
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_next_due",
            ),
            # Beat task waking snoozed tickets.
            models.Index(
                fields=["snoozed_until"],
                condition=Q(snoozed_until__isnull=False),
                name="ticket_snoozed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def customer_status_label(self) -> str:
        """The status in the customer's words (the portal's, portal/labels.py: "Waiting for
        you" where an agent reads "Pending"), in the active language."""
        with translation.override(None):
            english = str(Status(self.status).label)
        return pgettext("ticket status", english)
