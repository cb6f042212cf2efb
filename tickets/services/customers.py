"""Customers by address: found or created, one at a time or many in one statement; their
profiles, addresses and organizations edited; two customers merged; a ticket's requester
changed.

An address is a customer's own (Customer.email) or one of their other addresses
(CustomerEmail): mail from either is theirs. A new customer whose address is in an
organization's domain (OrganizationDomain) joins it, whichever door created them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditKind
from audit.services import record_about_customer
from tickets import hooks
from tickets.languages import supported_language
from tickets.models import (
    Customer,
    CustomerEmail,
    EventKind,
    Organization,
    OrganizationDomain,
    Ticket,
    TicketEvent,
    User,
)
from tickets.services.events import Actor, after_commit, new_event, save_events
from tickets.services.policy import InvalidChange, check_actor

MAX_EMAILS = 20
MAX_DOMAINS = 50
_DOMAIN = models.CharField(max_length=253)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def get_or_create_customer(
    email: str,
    name: str = "",
    organization: str | Organization | None = None,
    *,
    mail_language: str = "",
) -> Customer:
    """The customer for an address (case-insensitive, any of their addresses); fills a
    missing name or organization, and keeps the language their mail named
    (`mail_language`, a Content-Language header). A new customer joins the organization
    of their domain."""
    email = normalize_email(email)
    customer = upsert_customers([(email, name[:200], mail_language)])[email]
    if organization and customer.organization_id is None:
        if isinstance(organization, str):
            organization, _ = Organization.objects.get_or_create(name=organization.strip()[:200])
        customer.organization = organization
        customer.save(update_fields=["organization"])
    return customer


# Customers for many addresses in one statement, without a savepoint: an address that is
# another address of a customer (tickets_customeremail) is theirs; any other is created
# on first mention, in the organization of its domain, a missing name filled, a known
# name kept. `input` holds each address once; `address` is the address asked for;
# `inserted` is true for a customer this statement created (a row an INSERT wrote has no
# xmax, one its ON CONFLICT updated has).
_UPSERT_CUSTOMERS = """
    WITH input AS (
        SELECT * FROM unnest(%(emails)s::text[], %(names)s::text[], %(languages)s::text[])
        AS i (email, name, mail_language)
    ), alias AS (
        SELECT a.email AS address, false AS inserted, c.* FROM tickets_customeremail a
        JOIN tickets_customer c ON c.id = a.customer_id
        WHERE a.email = ANY(%(emails)s)
    ), stored AS (
        INSERT INTO tickets_customer AS c (email, name, organization_id, created_at, mail_language)
        SELECT i.email, i.name, d.organization_id, %(at)s, i.mail_language FROM input i
        LEFT JOIN tickets_organizationdomain d ON d.domain = split_part(i.email, '@', 2)
        WHERE i.email NOT IN (SELECT address FROM alias)
        ON CONFLICT (email) DO UPDATE SET
            name = CASE WHEN c.name = '' THEN EXCLUDED.name ELSE c.name END,
            mail_language = COALESCE(NULLIF(EXCLUDED.mail_language, ''), c.mail_language)
        WHERE (c.name = '' AND EXCLUDED.name <> '')
            OR (EXCLUDED.mail_language NOT IN ('', c.mail_language))
        RETURNING c.email AS address, (c.xmax = 0) AS inserted, c.*
    )
    SELECT * FROM stored
    UNION ALL
    SELECT * FROM alias
    UNION ALL
    SELECT email AS address, false AS inserted, * FROM tickets_customer
    WHERE email = ANY(%(emails)s) AND email NOT IN (SELECT address FROM stored)
      AND email NOT IN (SELECT address FROM alias)
"""


def upsert_customers(
    mentions: Iterable[tuple[str, str] | tuple[str, str, str]],
) -> dict[str, Customer]:
    """The customer of each (address, name[, mail language]) mention, as
    `get_or_create_customer` would leave it after the mentions one by one, in one
    statement: an address is created on its first mention, its first non-empty name
    fills a missing one, and its last mail language (a supported one) is kept."""
    names: dict[str, str] = {}
    languages: dict[str, str] = {}
    for email, name, *language in mentions:
        if not names.get(email):
            names[email] = name
        chosen = supported_language(language[0]) if language else ""
        if chosen or email not in languages:
            languages[email] = chosen
    if not names:
        return {}
    params = {
        "emails": list(names),
        "names": list(names.values()),
        "languages": [languages[email] for email in names],
        "at": timezone.now(),
    }
    rows = Customer.objects.raw(_UPSERT_CUSTOMERS, params)
    # A raw query's extra column (AS address) is unknown to the model type.
    found = {c.address: c for c in rows}  # type: ignore[attr-defined]  # django-stubs: as said
    for email in names.keys() - found.keys():
        # Created by another transaction after this statement's snapshot was taken: the
        # INSERT saw it (and waited for it), the SELECT's snapshot did not.
        customer = found[email] = Customer.objects.get(email=email)
        if names[email] and not customer.name:
            customer.name = names[email]
            customer.save(update_fields=["name"])
        if languages[email] and customer.mail_language != languages[email]:
            customer.mail_language = languages[email]
            customer.save(update_fields=["mail_language"])
    created = [c for c in found.values() if getattr(c, "inserted", False)]
    if created:
        hooks.customers_created(created)
    return found


def remember_mail_language(email: str, content_language: str) -> None:
    """Keep the language a known customer's mail named (its Content-Language), when it
    is one we speak: their replies' language, as a new ticket's is kept by
    `upsert_customers`. One statement; an unknown address is left alone."""
    language = supported_language(content_language)
    if language:
        Customer.objects.filter(email=normalize_email(email)).exclude(
            mail_language=language
        ).update(mail_language=language)


def customers_by_address(emails: Iterable[str]) -> dict[str, Customer]:
    """The known customers of these addresses, by either kind of address (one query: the
    customers of either, with the other addresses of theirs that were asked for)."""
    wanted = {normalize_email(email) for email in emails}
    asked = CustomerEmail.objects.filter(email__in=wanted)
    found: dict[str, Customer] = {}
    for customer in (
        Customer.objects.filter(Q(email__in=wanted) | Q(pk__in=asked.values("customer_id")))
        .annotate(asked=ArraySubquery(asked.filter(customer=OuterRef("pk")).values("email")))
        .select_related("user")
    ):
        for email in [customer.email, *customer.asked]:
            if email in wanted:
                found[email] = customer
    return found


def organizations_by_domain(emails: Iterable[str]) -> dict[str, int]:
    """The organization id of each address whose domain one has (one query)."""
    domains = {email: email_domain(email) for email in emails}
    owners = dict(
        OrganizationDomain.objects.filter(domain__in=set(domains.values())).values_list(
            "domain", "organization_id"
        )
    )
    return {email: owners[domain] for email, domain in domains.items() if domain in owners}


# --- profiles -------------------------------------------------------------------------


def clean_emails(customer: Customer, emails: Iterable[str]) -> list[str]:
    """A customer's other addresses as they will be stored: valid, lower case, each once,
    not the primary address, none another customer's. Raises InvalidChange (`emails`)."""
    cleaned: dict[str, None] = {}
    for raw in emails:
        email = normalize_email(raw)
        if not email or email == customer.email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidChange(
                gettext("“%(address)s” is not an email address.") % {"address": raw.strip()},
                field="emails",
            ) from None
        cleaned[email] = None
    if len(cleaned) > MAX_EMAILS:
        raise InvalidChange(
            gettext("At most %(count)s other addresses.") % {"count": MAX_EMAILS}, field="emails"
        )
    taken = set(
        Customer.objects.filter(email__in=cleaned)
        .exclude(pk=customer.pk)
        .values_list("email", flat=True)
    ) | set(
        CustomerEmail.objects.filter(email__in=cleaned)
        .exclude(customer=customer)
        .values_list("email", flat=True)
    )
    if taken:
        raise InvalidChange(
            gettext("%(addresses)s belongs to another customer: merge the two instead.")
            % {"addresses": ", ".join(sorted(taken))},
            field="emails",
        )
    return list(cleaned)


@dataclass(frozen=True)
class Profile:
    """What an agent edits on a customer's page."""

    name: str
    phone: str
    notes: str
    organization: Organization | None
    emails: list[str]


@transaction.atomic
def update_customer(customer: Customer, profile: Profile) -> Customer:
    """Save a customer's profile and their other addresses (see `clean_emails`)."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    emails = clean_emails(locked, profile.emails)
    locked.name = profile.name.strip()[:200]
    locked.phone = profile.phone.strip()[:50]
    locked.notes = profile.notes.strip()
    locked.organization = profile.organization
    locked.save(update_fields=["name", "phone", "notes", "organization"])
    CustomerEmail.objects.filter(customer=locked).exclude(email__in=emails).delete()
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=locked, email=email) for email in emails], ignore_conflicts=True
    )
    return locked


def set_customer_language(customer: Customer, language: str) -> Customer:
    """The language a customer chose (their portal account, the help center's switcher):
    one of LANGUAGES, or "" to go back to their mail's and browser's. Raises
    InvalidChange (`language`)."""
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidChange(
            gettext("“%(language)s” is not a language of this desk.") % {"language": language},
            field="language",
        )
    if customer.language != language:
        customer.language = language
        Customer.objects.filter(pk=customer.pk).update(language=language)
    return customer


def clean_domains(organization: Organization, domains: Iterable[str]) -> list[str]:
    """An organization's domains as stored: lower case, without "@", each once, none
    another organization's. Raises InvalidChange (`domains`)."""
    cleaned: dict[str, None] = {}
    for raw in domains:
        domain = raw.strip().lower().lstrip("@")
        if not domain:
            continue
        try:
            validate_email(f"x@{domain}")
            _DOMAIN.clean(domain, None)
        except ValidationError:
            raise InvalidChange(
                gettext("“%(domain)s” is not a mail domain.") % {"domain": raw.strip()},
                field="domains",
            ) from None
        cleaned[domain] = None
    if len(cleaned) > MAX_DOMAINS:
        raise InvalidChange(
            gettext("At most %(count)s domains.") % {"count": MAX_DOMAINS}, field="domains"
        )
    taken = (
        OrganizationDomain.objects.filter(domain__in=cleaned)
        .exclude(organization=organization)
        .select_related("organization")
    )
    for other in taken:
        raise InvalidChange(
            gettext("%(domain)s is already a domain of %(organization)s.")
            % {"domain": other.domain, "organization": other.organization.name},
            field="domains",
        )
    return list(cleaned)


@transaction.atomic
def update_organization(
    organization: Organization, *, name: str, notes: str, domains: Iterable[str]
) -> Organization:
    """Save an organization's name, notes and domains (see `clean_domains`)."""
    name = name.strip()[:200]
    if not name:
        raise InvalidChange(gettext("An organization needs a name."), field="name")
    if Organization.objects.filter(name=name).exclude(pk=organization.pk).exists():
        raise InvalidChange(
            gettext("There is already an organization named %(name)s.") % {"name": name},
            field="name",
        )
    cleaned = clean_domains(organization, domains)
    organization.name, organization.notes = name, notes.strip()
    organization.save(update_fields=["name", "notes"])
    OrganizationDomain.objects.filter(organization=organization).exclude(
        domain__in=cleaned
    ).delete()
    OrganizationDomain.objects.bulk_create(
        [OrganizationDomain(organization=organization, domain=d) for d in cleaned],
        ignore_conflicts=True,
    )
    return organization


def set_account_owner(organization: Organization, owner: User | None) -> Organization:
    """Name the agent who owns the account (its success contact: health follow-ups and
    success follow-ups go to them, "My accounts" lists it); None leaves it unowned."""
    if owner is not None and not User.objects.acting_agents().filter(pk=owner.pk).exists():
        raise InvalidChange(
            gettext("The owner must be an active agent who may hold tickets."), field="owner"
        )
    organization.success_contact = owner
    organization.save(update_fields=["success_contact"])
    return organization


# --- requester and merge ------------------------------------------------------------


def _requester_events(
    tickets: Iterable[Ticket], before: Customer, after: Customer, actor: Actor
) -> list[TicketEvent]:
    at = timezone.now()
    return [
        new_event(
            ticket, EventKind.CUSTOMER, actor=actor, at=at, before=before.email, after=after.email
        )
        for ticket in tickets
    ]


@transaction.atomic
def change_requester(ticket: Ticket, customer: Customer, *, actor: Actor) -> TicketEvent | None:
    """Make `customer` the ticket's requester, with its event; None if they already were.
    NotPermitted for a light agent (policy.check_actor)."""
    check_actor(actor.user)
    locked = (
        Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=ticket.pk)
    )
    if locked.customer_id == customer.pk:
        return None
    (event,) = _requester_events([locked], locked.customer, customer, actor)
    save_events([event])
    locked.customer = customer
    locked.updated_at = max(locked.updated_at, event.at)
    locked.save(update_fields=["customer", "updated_at"])
    ticket.customer, ticket.updated_at = customer, locked.updated_at
    after_commit(ticket.pk)
    return event


def _owned_relations() -> list[models.ForeignObject]:
    """The foreign keys to Customer of the rows a customer owns (tickets, survey answers,
    request-form visits: PROTECT or SET_NULL), whatever app holds them; rows that go with
    the customer (CASCADE: sign-in links, survey invitations) are left to go."""
    return [
        relation.field
        for relation in Customer._meta.get_fields(include_hidden=True)
        if isinstance(relation, models.ManyToOneRel)
        and relation.auto_created
        and not relation.concrete
        and relation.one_to_many
        and relation.on_delete is not models.CASCADE
    ]


@dataclass(frozen=True)
class Merged:
    customer: Customer
    tickets: int
    moved: dict[str, int]


@transaction.atomic
def merge_customers(source: Customer, target: Customer, *, actor: Actor) -> Merged:
    """Merge `source` into `target`: its tickets (each with a requester event), survey
    answers and every other row it owns move to `target`; its addresses become
    `target`'s other addresses, so its mail keeps reaching `target`; blanks of
    `target`'s profile are filled from it; then it is deleted, with an audit row."""
    if source.pk == target.pk:
        raise InvalidChange(gettext("Choose another customer to merge with."), field="customer")
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise InvalidChange(gettext("That customer no longer exists."), field="customer")
    source, target = locked[source.pk], locked[target.pk]
    tickets = list(Ticket.objects.select_for_update().filter(customer=source).only("pk"))
    save_events(_requester_events(tickets, source, target, actor))
    moved: dict[str, int] = {}
    for field in _owned_relations():
        count = field.model._base_manager.filter(**{field.name: source}).update(
            **{field.name: target}
        )
        moved[field.model._meta.label] = count
    addresses = [source.email, *source.emails.values_list("email", flat=True)]
    source.emails.all().delete()
    _fill_profile(source, target)
    user = source.user if target.user_id is None else None
    source_id = source.pk
    source.delete()
    if user is not None:
        target.user = user
    target.save()
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=target, email=email) for email in addresses], ignore_conflicts=True
    )
    for ticket in tickets:
        after_commit(ticket.pk)
    record_about_customer(
        AuditKind.CUSTOMER_MERGE,
        "merged",
        target,
        actor=actor.user,
        data={"merged_customer": source_id, "moved": moved},
    )
    return Merged(target, len(tickets), moved)


def _fill_profile(source: Customer, target: Customer) -> None:
    target.name = target.name or source.name
    target.phone = target.phone or source.phone
    target.organization_id = target.organization_id or source.organization_id
    if source.notes:
        target.notes = f"{target.notes}\n\n{source.notes}".strip()
