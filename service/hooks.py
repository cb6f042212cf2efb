"""How ticket changes reach account health: receivers of tickets.hooks (after commit).

The request that changed a ticket only hands its number to a worker (a Redis key keeps
one hand-over per ticket at a time, as the figures do): no query on the request's path.
The worker (`service.accounts_stale`) finds the ticket's customer and organization; the
first mark of an account starts one recompute HEALTH_DEBOUNCE_SECONDS later, and marks
meanwhile ride on it. With Redis or the broker down, the nightly sweep
(service.sweep_health) measures every active account anyway.
"""

from __future__ import annotations

from django.core.cache import cache

from helpdesk.celery import enqueue
from service import sweep
from service.tasks import TICKET_PENDING_KEY, TICKET_PENDING_SECONDS, accounts_stale_task


def ticket_changed(ticket_id: int) -> None:
    key = TICKET_PENDING_KEY.format(ticket_id)
    if cache.add(key, 1, timeout=TICKET_PENDING_SECONDS):
        enqueue(accounts_stale_task, [ticket_id], otherwise=lambda: cache.delete(key))


def tickets_changed(ticket_ids: list[int]) -> None:
    # A batch is handed over in one task: its accounts are debounced in the worker.
    enqueue(accounts_stale_task, list(ticket_ids))


def recompute_everything() -> None:
    """Receiver of metrics.extensions.recomputed (`manage.py recompute_metrics`)."""
    sweep.recompute_active()
    sweep.refresh_topics()
