"""Business-time figures follow their calendar: when a calendar's hours, holidays, zone or
default flag change, or a mailbox gets another calendar (tickets/calendars.py says when),
the figures of the tickets it measures are recomputed in the background
(metrics.refresh_mailbox_figures), not left as they were until someone runs
`recompute_metrics`. If the broker is down then, the re-measure is logged as lost and
`manage.py recompute_metrics` does it (docs/operations.md)."""

from __future__ import annotations

from helpdesk.celery import enqueue_on_commit
from metrics.tasks import refresh_mailbox_figures_task


def calendars_changed(mailbox_ids: list[int]) -> None:
    """Receiver of `tickets.hooks.calendars_changed`: re-measure after commit."""
    if mailbox_ids:
        enqueue_on_commit(refresh_mailbox_figures_task, mailbox_ids)
