"""How ticket changes reach account health: receivers of tickets.hooks (after commit).

Each change marks the ticket's customer and organization stale; the first mark of an
account starts one recompute DEBOUNCE_SECONDS later, and later changes meanwhile ride on
it (the pending key in Redis). With Redis or the broker down, the nightly sweep
(service.sweep_health) measures every active account anyway.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from helpdesk.celery import enqueue
from service import sweep
from service.tasks import DEBOUNCE_SECONDS, PENDING_KEY, recompute_health_task
from tickets.models import Ticket


def _accounts(ticket_ids: list[int]) -> set[tuple[str, int]]:
    accounts: set[tuple[str, int]] = set()
    for customer_id, organization_id in Ticket.objects.filter(pk__in=ticket_ids).values_list(
        "customer_id", "customer__organization_id"
    ):
        accounts.add(("customer", customer_id))
        if organization_id is not None:
            accounts.add(("organization", organization_id))
    return accounts


def accounts_stale(accounts: set[tuple[str, int]]) -> None:
    eta = timezone.now() + timedelta(seconds=DEBOUNCE_SECONDS)
    for kind, pk in sorted(accounts):
        key = PENDING_KEY.format(kind, pk)
        if cache.add(key, 1, timeout=DEBOUNCE_SECONDS * 10):
            enqueue(
                recompute_health_task, kind, pk, eta=eta, otherwise=lambda k=key: cache.delete(k)
            )


def ticket_changed(ticket_id: int) -> None:
    accounts_stale(_accounts([ticket_id]))


def tickets_changed(ticket_ids: list[int]) -> None:
    accounts_stale(_accounts(ticket_ids))


def recompute_everything() -> None:
    """Receiver of metrics.extensions.recomputed (`manage.py recompute_metrics`)."""
    sweep.recompute_active()
    sweep.refresh_topics()
