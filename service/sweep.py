"""The nightly sweep: every account active in the last year measured again (its score
moves with time alone: tickets age, contact grows old), and topics mined again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from service import health, topics
from service.models import AccountHealth
from tickets.models import Ticket
from tickets.workflow.automation.health import Account

ACTIVE = timedelta(days=365)


def accounts_of(ticket_ids: list[int]) -> list[tuple[str, int]]:
    """The customers and organizations of these tickets, in a stable order."""
    accounts: set[tuple[str, int]] = set()
    for customer_id, organization_id in Ticket.objects.filter(pk__in=ticket_ids).values_list(
        "customer_id", "customer__organization_id"
    ):
        accounts.add(("customer", customer_id))
        if organization_id is not None:
            accounts.add(("organization", organization_id))
    return sorted(accounts)


def active_accounts(now: datetime) -> list[Account]:
    """Customers and organizations with a ticket in the last year, or a score already."""
    recent = Ticket.objects.filter(created_at__gte=now - ACTIVE).order_by()
    customers = set(recent.values_list("customer_id", flat=True).distinct())
    organizations = set(
        recent.filter(customer__organization__isnull=False)
        .values_list("customer__organization_id", flat=True)
        .distinct()
    )
    for customer_id, organization_id in AccountHealth.objects.values_list(
        "customer_id", "organization_id"
    ):
        if customer_id is not None:
            customers.add(customer_id)
        else:
            organizations.add(organization_id)
    return [Account("customer", pk) for pk in sorted(customers)] + [
        Account("organization", pk) for pk in sorted(organizations)
    ]


def recompute_active(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    accounts = active_accounts(now)
    for account in accounts:
        health.recompute(account, now=now)
    return len(accounts)


def refresh_topics() -> None:
    topics.refresh_topics()
