"""Thin Celery tasks of the metrics queue."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from helpdesk.celery import TRANSIENT
from metrics import services, surveys

# A burst of changes to one ticket (create + first message + assignment all commit
# together) enqueues one task: the first change sets this key (metrics/hooks.py), the
# task clears it before it reads the events, so any change committed after that enqueues
# again. The timeout only matters if a task is lost; the sweeper catches those rows.
PENDING_KEY = "metrics:figures-pending:{}"
PENDING_TIMEOUT = 300


# A refresh is idempotent: retried when the database is briefly away.
@shared_task(name="metrics.refresh_ticket_figures", **TRANSIENT)
def refresh_ticket_figures_task(ticket_id: int) -> None:
    cache.delete(PENDING_KEY.format(ticket_id))
    if services.refresh_ticket_figures(ticket_id):
        surveys.offer_csat(ticket_id)


@shared_task(name="metrics.refresh_tickets_figures", **TRANSIENT)
def refresh_tickets_figures_task(ticket_ids: list[int]) -> None:
    """refresh_ticket_figures_task for the tickets of one ingest batch."""
    for ticket_id in ticket_ids:
        refresh_ticket_figures_task(ticket_id)


@shared_task(name="metrics.refresh_mailbox_figures", **TRANSIENT)
def refresh_mailbox_figures_task(mailbox_ids: list[int]) -> None:
    """Every figure of these mailboxes' tickets, after their business calendar changed."""
    services.refresh_figures_of_mailboxes(mailbox_ids)


@shared_task(name="metrics.sweep_stale_figures", ignore_result=True)
def sweep_stale_figures_task() -> None:
    for ticket_id in services.stale_ticket_ids():
        services.refresh_ticket_figures(ticket_id)
    services.compact_day_counts()


@shared_task(name="metrics.send_nps_invitations", ignore_result=True)
def send_nps_invitations_task() -> None:
    surveys.send_nps_invitations()
