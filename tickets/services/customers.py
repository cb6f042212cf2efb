"""Customers by address: found or created, one at a time or many in one statement."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from tickets.models import Customer, Organization


def get_or_create_customer(
    email: str, name: str = "", organization: str | Organization | None = None
) -> Customer:
    """The customer for an address (case-insensitive); fills a missing name or organization."""
    email = email.strip().lower()
    if not organization:
        return _upsert_customer(email, name[:200])
    customer, created = Customer.objects.get_or_create(email=email, defaults={"name": name[:200]})
    changed: list[str] = []
    if name and not customer.name:
        customer.name = name[:200]
        changed.append("name")
    if organization and customer.organization_id is None:
        if isinstance(organization, str):
            organization, _ = Organization.objects.get_or_create(name=organization.strip()[:200])
        customer.organization = organization
        changed.append("organization")
    if (changed and not created) or changed:
        customer.save(update_fields=changed)
    return customer


# Customers for many addresses in one statement, without a savepoint: created on first
# mention, a missing name filled, a known name kept. `input` holds each address once.
_UPSERT_CUSTOMERS = """
    WITH input AS (
        SELECT * FROM unnest(%(emails)s::text[], %(names)s::text[]) AS i (email, name)
    ), stored AS (
        INSERT INTO tickets_customer AS c (email, name, created_at)
        SELECT email, name, %(at)s FROM input
        ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name
        WHERE c.name = '' AND EXCLUDED.name <> ''
        RETURNING c.*
    )
    SELECT * FROM stored
    UNION ALL
    SELECT * FROM tickets_customer
    WHERE email = ANY(%(emails)s) AND email NOT IN (SELECT email FROM stored)
"""


def _upsert_customer(email: str, name: str) -> Customer:
    """`get_or_create_customer` without an organization: see `upsert_customers`."""
    return upsert_customers([(email, name)])[email]


def upsert_customers(mentions: Iterable[tuple[str, str]]) -> dict[str, Customer]:
    """The customer of each (address, name) mention, as `get_or_create_customer` would
    leave it after the mentions one by one, in one statement: an address is created on
    its first mention, and its first non-empty name fills a missing one."""
    names: dict[str, str] = {}
    for email, name in mentions:
        if not names.get(email):
            names[email] = name
    if not names:
        return {}
    params = {"emails": list(names), "names": list(names.values()), "at": timezone.now()}
    found = {c.email: c for c in Customer.objects.raw(_UPSERT_CUSTOMERS, params)}
    for email in names.keys() - found.keys():
        # Created by another transaction after this statement's snapshot was taken: the
        # INSERT saw it (and waited for it), the SELECT's snapshot did not.
        customer = found[email] = Customer.objects.get(email=email)
        if names[email] and not customer.name:
            customer.name = names[email]
            customer.save(update_fields=["name"])
    return found
