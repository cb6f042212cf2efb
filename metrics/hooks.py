"""How the ticket services tell the metrics workers that a ticket's figures are stale."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from helpdesk.cache import writer
from metrics.surveys import CSAT_RECENT
from metrics.tasks import (
    PENDING_KEY,
    PENDING_TIMEOUT,
    refresh_ticket_figures_task,
    refresh_tickets_figures_task,
)

logger = logging.getLogger(__name__)


def ticket_figures_stale(ticket_id: int) -> None:
    """Receiver of `tickets.hooks.ticket_changed` (after commit): enqueue one recompute of
    its row."""
    key = PENDING_KEY.format(ticket_id)
    if not cache.add(key, 1, timeout=PENDING_TIMEOUT):
        return
    # Called after commit already: a plain delay(), so that a broker error is caught here
    # (delay_on_commit would raise it from Django's on_commit, past this handler).
    try:
        refresh_ticket_figures_task.delay(ticket_id)
    except Exception:
        # The change itself is committed; a broker outage must not turn it into an error
        # page. Clearing the key lets the next change retry, and the sweeper re-measures.
        cache.delete(key)
        logger.exception("could not enqueue figures of ticket %s", ticket_id)


def tickets_figures_stale(ticket_ids: list[int]) -> None:
    """`ticket_figures_stale` for many tickets: the pending keys set in one round trip,
    one task for the tickets that had none."""
    keys = [cache.make_and_validate_key(PENDING_KEY.format(t)) for t in ticket_ids]
    pipeline = writer().pipeline(transaction=False)
    for key in keys:
        pipeline.set(key, 1, ex=PENDING_TIMEOUT, nx=True)
    stale = [t for t, added in zip(ticket_ids, pipeline.execute(), strict=True) if added]
    if not stale:
        return
    try:
        refresh_tickets_figures_task.delay(stale)
    except Exception:
        cache.delete_many([PENDING_KEY.format(t) for t in stale])
        logger.exception("could not enqueue figures of tickets %s", stale)


def figures_written(solved: dict[int, datetime | None]) -> None:
    """After commit of tickets whose figures were written in their own transaction
    (history import, `metrics.services.refresh_figures_of`): `solved` maps each ticket to
    its solved_at. Only a ticket solved just now can still owe its customer the CSAT
    survey; it gets the usual task, which measures it again and offers the survey."""
    recent = timezone.now() - CSAT_RECENT
    for ticket_id, solved_at in solved.items():
        if solved_at is not None and solved_at >= recent:
            ticket_figures_stale(ticket_id)
