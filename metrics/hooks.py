"""How the ticket services tell the metrics workers that a ticket's figures are stale."""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from helpdesk.cache import UNREACHABLE, unavailable, writer
from helpdesk.celery import enqueue
from metrics.surveys import CSAT_RECENT
from metrics.tasks import (
    PENDING_KEY,
    PENDING_TIMEOUT,
    refresh_ticket_figures_task,
    refresh_tickets_figures_task,
)


def ticket_figures_stale(ticket_id: int) -> None:
    """Receiver of `tickets.hooks.ticket_changed` (after commit): enqueue one recompute of
    its row."""
    key = PENDING_KEY.format(ticket_id)
    # With Redis unreachable the key cannot be added, and no task could be enqueued
    # either: the sweeper (metrics.sweep_stale_figures) re-measures the ticket later.
    if not cache.add(key, 1, timeout=PENDING_TIMEOUT):
        return
    # Called after commit already; a broker that is down is logged, and clearing the key
    # lets the next change retry (the sweeper re-measures in any case).
    enqueue(refresh_ticket_figures_task, ticket_id, otherwise=lambda: cache.delete(key))


def tickets_figures_stale(ticket_ids: list[int]) -> None:
    """`ticket_figures_stale` for many tickets: the pending keys set in one round trip,
    one task for the tickets that had none."""
    keys = [cache.make_and_validate_key(PENDING_KEY.format(t)) for t in ticket_ids]
    pipeline = writer().pipeline(transaction=False)
    for key in keys:
        pipeline.set(key, 1, ex=PENDING_TIMEOUT, nx=True)
    try:
        added = pipeline.execute()
    except UNREACHABLE:
        unavailable("figures left to the sweeper")
        return
    stale = [t for t, new in zip(ticket_ids, added, strict=True) if new]
    if stale:
        enqueue(
            refresh_tickets_figures_task,
            stale,
            otherwise=lambda: cache.delete_many([PENDING_KEY.format(t) for t in stale]),
        )


def figures_written(solved: dict[int, datetime | None]) -> None:
    """After commit of tickets whose figures were written in their own transaction
    (history import, `metrics.services.refresh_figures_of`): `solved` maps each ticket to
    its solved_at. Only a ticket solved just now can still owe its customer the CSAT
    survey; it gets the usual task, which measures it again and offers the survey."""
    recent = timezone.now() - CSAT_RECENT
    for ticket_id, solved_at in solved.items():
        if solved_at is not None and solved_at >= recent:
            ticket_figures_stale(ticket_id)
