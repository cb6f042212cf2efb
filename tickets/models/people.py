"""The people of the help desk: staff users with their roles, teams, customers and
their organizations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.db.models.expressions import BaseExpression


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")
    # Reads the tickets of their teams' mailboxes and writes internal notes; never replies
    # to customers, changes a ticket or holds one (tickets/services/policy.py).
    LIGHT_AGENT = "light_agent", _("Light agent")


# Staff: the agent workspace. Light agents are staff who only read and write notes.
STAFF_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.LIGHT_AGENT)
# Staff who may reply, change tickets and hold them.
ACTING_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)
# Managers and admins (and superusers, whatever their role) see every mailbox.
MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)


class TandemUserManager(UserManager["User"]):
    def agents(self) -> QuerySet[User]:
        """Active staff, light agents included."""
        return self.filter(role__in=STAFF_ROLES, is_active=True)

    def acting_agents(self) -> QuerySet[User]:
        """Active staff who may reply and hold tickets: no light agents."""
        return self.filter(role__in=ACTING_ROLES, is_active=True)

    def assignable(self, mailbox_id: int | BaseExpression) -> QuerySet[User]:
        """Who may hold a ticket of this mailbox: those of `may_open` who are not light
        agents (services.check_assignee)."""
        return self.may_open(mailbox_id).filter(role__in=ACTING_ROLES)

    def may_open(self, mailbox_id: int | BaseExpression) -> QuerySet[User]:
        """The active staff who may open a ticket of this mailbox, i.e. managers and admins
        (they see every mailbox) and agents and light agents of the mailbox's teams, as
        Ticket.objects.visible_to decides for each of them: whom a notice about it may
        reach. `mailbox_id` may be a subquery (a ticket's mailbox, read in the same query)."""
        return (
            self.agents()
            .filter(
                models.Q(role__in=MANAGER_ROLES)
                | models.Q(is_superuser=True)
                | models.Q(teams__mailboxes=mailbox_id)
            )
            .distinct()
        )

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
    notify_on_mention = models.BooleanField(default=True, db_default=True)
    notify_on_sla_warning = models.BooleanField(default=True, db_default=True)
    # The same kinds in the app (the bell in the top bar, tickets.notify).
    app_on_mention = models.BooleanField(default=True, db_default=True)
    app_on_assignment = models.BooleanField(default=True, db_default=True)
    app_on_customer_reply = models.BooleanField(default=True, db_default=True)
    app_on_sla_warning = models.BooleanField(default=True, db_default=True)
    # After sending a reply, open the next ticket of the view it was opened from.
    next_after_reply = models.BooleanField(default=False, db_default=False)
    # The colour scheme this person picked (helpdesk/theme.py): "light", "dark", or
    # "system" (follow the device); "" until they pick one (the browser's cookie applies).
    theme = models.CharField(max_length=8, blank=True, default="", db_default="")
    # The language of the agent app for this person (a code of settings.LANGUAGES, set on
    # /me/language/, activated by helpdesk.middleware.agent_language); "": the browser's.
    language = models.CharField(max_length=8, blank=True, default="", db_default="")
    # Markdown under this agent's replies; blank: the mailbox's (tickets/mail/compose.py).
    signature = models.TextField(blank=True, default="", db_default="")

    objects: ClassVar[TandemUserManager] = TandemUserManager()

    @property
    def is_agent(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_light_agent(self) -> bool:
        """Reads and writes internal notes only (superusers are never light)."""
        return self.role == Role.LIGHT_AGENT and not self.is_superuser

    @property
    def may_act(self) -> bool:
        """Staff who may reply to customers and change tickets: not a light agent."""
        return self.is_agent and not self.is_light_agent

    @property
    def sees_everything(self) -> bool:
        return self.role in MANAGER_ROLES or self.is_superuser

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

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


class TeamQuerySet(models.QuerySet["Team"]):
    def working_in(self, mailbox_id: int) -> TeamQuerySet:
        """The teams that work a mailbox (Mailbox.teams): every member may open its
        tickets, so only these may be a ticket's team (services.check_team)."""
        return self.filter(mailboxes=mailbox_id)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    # The support tier (1 = first line). A ticket moved to a team of a higher tier counts
    # as escalated (metrics.figures, docs/metrics.md "Escalation rate").
    tier = models.PositiveSmallIntegerField(
        default=1,
        db_default=1,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
        help_text="1 = first line. A move to a higher tier counts as an escalation.",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    notes = models.TextField(blank=True)
    shares_tickets = models.BooleanField(
        default=False, help_text="Members of the organization see each other's tickets."
    )
    success_contact = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Custom field values by key (tickets/services/fields.py checks them).
    fields = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """A mail domain of an organization: a new customer with an address there joins it
    (services.get_or_create_customer and the bulk paths beside it)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    # Lowercase, without "@"; one organization per domain (the unique index serves the
    # lookup of a new customer's domain).
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


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
    # Database defaults: services.upsert_customers inserts rows in SQL without naming them.
    phone = models.CharField(max_length=50, blank=True, default="", db_default="")
    notes = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Custom field values by key (tickets/services/fields.py checks them).
    fields = models.JSONField(default=dict, db_default={}, blank=True)
    # The language the customer chose (portal account, an agent, the help center's
    # switcher); blank: unknown. `mail_language` is their mail's Content-Language, kept at
    # intake. tickets.languages.customer_language decides between them and the browser.
    language = models.CharField(
        max_length=10, blank=True, default="", db_default="", choices=settings.LANGUAGES
    )
    mail_language = models.CharField(max_length=10, blank=True, default="", db_default="")

    class Meta:
        ordering = ["email"]
        indexes = [
            # A search that is a customer's name (tickets.profiles.customers_named):
            # name__iexact is UPPER(name) = UPPER(%s).
            models.Index(Upper("name"), name="customer_name_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def first_name(self) -> str:
        return (self.name or self.email.split("@")[0]).split()[0]


class CustomerEmail(models.Model):
    """Another address of a customer (the primary one is Customer.email): mail from it is
    theirs (services.get_or_create_customer), and a merged customer's addresses stay here."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    # Unique across customers; a primary address is never also an alias
    # (services.customers checks both sides, under the customer's row lock).
    email = models.EmailField(unique=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email
