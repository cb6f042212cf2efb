"""Workers of the service app: account health and topics (service/health.py, topics.py)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from helpdesk.celery import TRANSIENT, enqueue
from service import health, sweep, topics
from tickets.workflow.automation.health import Account

TICKET_PENDING_KEY = "health-ticket:{}"
PENDING_KEY = "health-pending:{}:{}"
# A ticket is handed to the worker once in this long (settings.HEALTH_DEBOUNCE_SECONDS
# debounces its accounts there).
TICKET_PENDING_SECONDS = 60


@shared_task(name="service.accounts_stale", **TRANSIENT)
def accounts_stale_task(ticket_ids: list[int]) -> None:
    cache.delete_many([TICKET_PENDING_KEY.format(t) for t in ticket_ids])
    debounce = settings.HEALTH_DEBOUNCE_SECONDS
    eta = timezone.now() + timedelta(seconds=debounce)
    for kind, pk in sweep.accounts_of(ticket_ids):
        key = PENDING_KEY.format(kind, pk)
        if cache.add(key, 1, timeout=debounce * 10 + 60):
            enqueue(recompute_health_task, kind, pk, eta=eta, otherwise=partial(cache.delete, key))


@shared_task(name="service.recompute_health", **TRANSIENT)
def recompute_health_task(kind: str, pk: int) -> None:
    cache.delete(PENDING_KEY.format(kind, pk))
    health.recompute(Account(kind, pk))


@shared_task(name="service.sweep_health", ignore_result=True)
def sweep_health_task() -> None:
    sweep.recompute_active()


@shared_task(name="service.refresh_topics", **TRANSIENT)
def refresh_topics_task() -> None:
    topics.refresh_topics()


@shared_task(name="service.match_recent_topics", **TRANSIENT)
def match_recent_topics_task() -> None:
    topics.match_recent()
