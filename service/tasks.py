"""Workers of the service app: account health and topics (service/health.py, topics.py)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from helpdesk.celery import TRANSIENT
from service import health, sweep, topics
from tickets.workflow.automation.health import Account

PENDING_KEY = "health-pending:{}:{}"
# Changes to one account within this long are measured once (the task runs this late).
DEBOUNCE_SECONDS = 60


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
