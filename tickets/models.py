"""Mailboxes, teams, people, tickets, messages and the ticket event log.

Ticket rows carry the current state; TicketEvent rows are the append-only history every
figure is derived from. Services in tickets/services.py are the only writers: they keep
the two in step inside one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from tickets.business_hours import CalendarError, parse_hours, read_zone

if TYPE_CHECKING:
    from django.db.models import QuerySet


def _webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


STAFF_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)


class TandemUserManager(UserManager["User"]):
    def agents(self) -> QuerySet[User]:
        return self.filter(role__in=STAFF_ROLES, is_active=True)

    def by_email(self, emails: Iterable[str]) -> dict[str, User]:
        """The users that addresses name, as ticket history names agents (assignee events,
        message authors): an address someone had before a change still names them, unless
        another user has it now. One query, two when some address is no one's today."""
        wanted = {email for email in emails if email}
        found = {user.email: user for user in self.filter(email__in=wanted)} if wanted else {}
        rest = wanted - found.keys()
        if rest:
            # The latest owner first: an address can pass from one person to another.
            for past in (
                PastEmail.objects.filter(email__in=rest)
                .select_related("user")
                .order_by("email", "-changed_at")
            ):
                found.setdefault(past.email, past.user)
        return found


class User(AbstractUser):
    """Anyone who signs in: agents, managers and admins, and customers of the portal."""

    email = models.EmailField("email address", unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    is_away = models.BooleanField(default=False, help_text="Skipped by auto-assignment.")
    notify_on_assignment = models.BooleanField(default=True)
    notify_on_customer_reply = models.BooleanField(default=True)
    # Opt-in: on a busy mailbox every agent of its teams would get each of these.
    notify_on_unassigned_reply = models.BooleanField(default=False)

    objects = TandemUserManager()

    @property
    def is_agent(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN) or self.is_superuser

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email or self.username

    # What display_name reads (for `.only()` on lists that show names).
    NAME_FIELDS = ("first_name", "last_name", "email", "username")

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saved; a changed email address is kept as a PastEmail, because ticket history
        (and so every figure recomputed from it) names agents by the address they had.
        Saves of other fields only (update_fields without "email", as sign-in's
        last_login) cost nothing more."""
        fields = kwargs.get("update_fields")
        before = None
        if self.pk is not None and (fields is None or "email" in fields):
            before = User.objects.filter(pk=self.pk).values_list("email", flat=True).first()
        if not before or before == self.email:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            super().save(*args, **kwargs)
            PastEmail.objects.get_or_create(user=self, email=before)


class PastEmail(models.Model):
    """An address a user had before changing it (see User.save and User.objects.by_email)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="past_emails")
    email = models.EmailField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "email"], name="past_email_once_per_user")
        ]
        indexes = [models.Index(fields=["email"], name="past_email_email")]

    def __str__(self) -> str:
        return f"{self.email} (before {self.changed_at:%Y-%m-%d})"


class BusinessCalendar(models.Model):
    """Working hours in a time zone, with holidays; used by SLAs and business-time figures.

    `hours` maps weekday keys ("mon".."sun") to lists of ["HH:MM", "HH:MM"] intervals, as in
    specs/import-format.md.
    """

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=dict)
    holidays = ArrayField(models.DateField(), default=list, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A zone and hours the business-time arithmetic can read (the admin's form): a
        typo saved here would fail every figure and SLA due time of its tickets."""
        errors = {}
        for name, check in (("timezone", read_zone), ("hours", parse_hours)):
            try:
                check(getattr(self, name))
            except CalendarError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MailSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (plain text)"


class Mailbox(models.Model):
    """A shared address, e.g. support@acme.test, and how its mail comes in and goes out."""

    address = models.EmailField(unique=True)
    name = models.CharField(max_length=100)
    teams = models.ManyToManyField(Team, related_name="mailboxes", blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes"
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)

    from_name = models.CharField(max_length=100, blank=True)
    signature = models.TextField(blank=True)
    auto_ack_enabled = models.BooleanField(default=False)
    auto_ack_template = models.TextField(blank=True)

    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=8, choices=MailSecurity.choices, default=MailSecurity.SSL
    )
    imap_user = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_processed_folder = models.CharField(
        max_length=255, blank=True, help_text="Move fetched mail here; empty means flag it seen."
    )
    poll_interval_seconds = models.PositiveIntegerField(default=60)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    # The last poll (tickets.mail.imap.poll): when it ended, and why it failed ("" if it
    # worked). Admins see a failing mailbox on every page, not only in the worker's log.
    imap_polled_at = models.DateTimeField(null=True, blank=True)
    imap_error = models.TextField(blank=True)
    imap_failing_since = models.DateTimeField(null=True, blank=True)

    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=8, choices=MailSecurity.choices, default=MailSecurity.STARTTLS
    )
    smtp_user = models.CharField(max_length=255, blank=True)
    smtp_password = models.CharField(max_length=255, blank=True)

    webhook_secret = models.CharField(max_length=64, default=_webhook_secret)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_mailbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    shares_tickets = models.BooleanField(
        default=False, help_text="Members of the organization see each other's tickets."
    )
    success_contact = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """Someone who writes to us, identified by email; may also hold a portal account."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def first_name(self) -> str:
        return (self.name or self.email.split("@")[0]).split()[0]


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# The dashboard filters of SLA compliance, carried by its indexes.
SLA_COMPLIANCE_COLUMNS = ["kind", "team", "assignee", "mailbox"]
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)

# The longest address an EmailField stores (its default max_length); Django's email
# validator alone lets through up to 320 characters.
EMAIL_MAX_LENGTH = 254


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Kind(models.TextChoices):
    SUPPORT = "support", "Support"
    SERVICE = "service", "Service"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal"
    API = "api", "API"
    OUTBOUND = "outbound", "Outbound"
    IMPORT = "import", "Import"


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
        return self.filter(Q(customer__user=user) | Q(customer__organization__in=shared_orgs))

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


# Search finds messages newest month first (tickets/selectors.py, search_tickets): each
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
    # Workflow state (tickets/sla.py, tickets/collab.py): due times are stored, not
    # computed per request, so inboxes can sort and filter on them with an index.
    sla_policy = models.ForeignKey(
        "workflow.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
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


class Direction(models.TextChoices):
    INBOUND = "inbound", "From customer"
    OUTBOUND = "outbound", "Reply"
    NOTE = "note", "Internal note"


class DeliveryStatus(models.TextChoices):
    NONE = "", "Not sent by mail"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNDELIVERED = "undelivered", "Bounced"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    from_address = models.EmailField(blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    cc = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitized HTML, safe to render.")
    automatic = models.BooleanField(
        default=False,
        help_text="Auto-acknowledgements, survey mails, reminders: not agent replies.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Email threading: Message-ID without angle brackets, and what it replied to.
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # What makes an ingested message "the same" on a second delivery (Message-ID per
    # mailbox, or a content hash); the unique constraint turns retries into no-ops.
    dedupe_key = models.CharField(max_length=128, blank=True)
    external_id = models.CharField(max_length=200, blank=True)

    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed the send; the sweeper finds sends stuck in "sending".
    sending_since = models.DateTimeField(null=True, blank=True)

    search_vector = models.GeneratedField(
        expression=SearchVector("body_text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The conversation, oldest first.
            models.Index(fields=["ticket", "created_at", "id"], name="message_ticket"),
            # Threading looks up stored Message-IDs from In-Reply-To and References.
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="message_message_id"
            ),
            # The send queue and the sweeper for sends stuck in progress.
            models.Index(
                fields=["delivery_status"],
                condition=Q(delivery_status__in=["queued", "sending", "failed"]),
                name="message_delivery_queue",
            ),
            # Search is on the GIN index `message_search_dated` over message_search_doc()
            # (created in migration 0007: an expression index Django cannot describe).
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="message_dedupe_key"
            ),
            models.UniqueConstraint(
                fields=["ticket", "external_id"],
                condition=~Q(external_id=""),
                name="message_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.ticket_id}"

    @property
    def is_agent_reply(self) -> bool:
        return self.direction == Direction.OUTBOUND and not self.automatic


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(8)}/{filename[-150:]}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text="For inline cid: images.")
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS = "status", "Status"
    PRIORITY = "priority", "Priority"
    KIND = "kind", "Kind"
    ASSIGNEE = "assignee", "Assignee"
    TEAM = "team", "Team"
    TAGS = "tags", "Tags"
    SUBJECT = "subject", "Subject"
    MAILBOX = "mailbox", "Mailbox"
    CUSTOMER = "customer", "Customer"
    MESSAGE = "message", "Message"
    MERGED = "merged", "Merged"
    LINKED = "linked", "Linked"
    DELIVERY = "delivery", "Delivery"
    SLA = "sla", "SLA"
    RULE = "rule", "Rule"
    SURVEY = "survey", "Survey"


class ActorKind(models.TextChoices):
    AGENT = "agent", "Agent"
    CUSTOMER = "customer", "Customer"
    MAIL = "mail", "Email"
    RULE = "rule", "Automation rule"
    SYSTEM = "system", "System"
    IMPORT = "import", "Import"
    API = "api", "API"


class TicketEvent(models.Model):
    """Append-only: one row per change to a ticket. Never updated, never deleted by code."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_events"
    )
    actor_kind = models.CharField(
        max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A ticket's history in order: the activity feed and metric derivation.
            models.Index(fields=["ticket", "at", "id"], name="event_ticket_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.kind} {self.before!r} -> {self.after!r}"
