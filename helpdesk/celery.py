"""The one Celery app: queues and the beat schedule.

Queues: mail_in (IMAP polling, ingest), mail_out (SMTP sending), metrics (per-ticket
figures) and default (everything else). Apps add their periodic tasks to
BEAT_SCHEDULE here, so the whole schedule reads in one place.

Every task is enqueued through `enqueue` (now) or `enqueue_on_commit` (after the
surrounding transaction commits), never `delay_on_commit`: a broker that is down raises
from Django's on_commit into the request, turning a committed change into a 500. These
log it instead; what must happen is in the database for a periodic sweep to take (the
send queue, webhook mail, stale figures), or the caller says what to do instead.
"""

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import kombu.exceptions
import redis
from celery import Celery, Task
from django.db import OperationalError, transaction
from kombu import Queue

log = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached: kombu's wrapper, or the Redis
# client's or the socket's own error where kombu does not wrap it. Anything else (a task
# argument that does not serialize) is a bug and raises.
BROKER_DOWN: tuple[type[Exception], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# The retry policy of every task whose work can meet a passing fault, named once:
# `@shared_task(name=..., **TRANSIENT)`. Transient means the network (SMTP, IMAP, a
# refused or dropped connection: OSError, which smtplib's errors are too) or the database
# (OperationalError); anything else is a bug and fails at once. Exponential backoff with
# jitter, at most ten minutes apart, five retries; no results kept. Periodic tasks take
# none (their next run is the retry), nor does mail_out.send_message: the database is its
# queue and its retry schedule (tickets/mail/sending.py).
TRANSIENT: dict[str, Any] = {
    "autoretry_for": (OSError, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "ignore_result": True,
}

app = Celery("tandem")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue("default"), Queue("mail_in"), Queue("mail_out"), Queue("metrics")]
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "mail.*": {"queue": "mail_in"},
    "mail_out.*": {"queue": "mail_out"},
    "metrics.*": {"queue": "metrics"},
    "service.*": {"queue": "metrics"},
}
app.conf.beat_schedule = {
    # Per-ticket figures whose incremental update was lost (broker outage, crash).
    "metrics-sweep-stale-figures": {"task": "metrics.sweep_stale_figures", "schedule": 600.0},
    # NPS: once a day, customers active lately and not asked within NPS_THROTTLE_DAYS.
    "metrics-nps-invitations": {"task": "metrics.send_nps_invitations", "schedule": 86400.0},
    # Account health of every active account (its score moves with time alone) and the
    # topics mined again, nightly; tickets created lately matched to the topics meanwhile.
    "service-sweep-health": {"task": "service.sweep_health", "schedule": 86400.0},
    "service-refresh-topics": {"task": "service.refresh_topics", "schedule": 86400.0},
    "service-match-recent-topics": {"task": "service.match_recent_topics", "schedule": 600.0},
    # Ticket workflow (tickets/workflow/tasks.py): scheduled rules, SLA warnings and breaches,
    # snoozes ending and follow-up reminders.
    "tickets-scheduled-rules": {"task": "tickets.run_scheduled_rules", "schedule": 300.0},
    "tickets-check-sla": {"task": "tickets.check_sla", "schedule": 60.0},
    "tickets-wake-snoozed": {"task": "tickets.wake_snoozed", "schedule": 60.0},
    # Each active mailbox is fetched by its own mail.poll_mailbox task, so a slow one never
    # holds up the others; this only fans out those whose poll interval is due.
    "mail-poll-mailboxes": {"task": "mail.poll_due_mailboxes", "schedule": 15.0},
    # Webhook mail is stored before it is ingested: rows whose task was lost (broker
    # down) or whose worker died are ingested by this.
    "mail-sweep-inbound": {"task": "mail.sweep_inbound", "schedule": 60.0},
    # The send queue is the database: whatever is due goes out (a task lost with the
    # broker, a retry after a mail server outage).
    "mail-send-due": {"task": "mail_out.send_due", "schedule": 60.0},
    # Sends a dead worker left in "sending" become "failed" for a person to decide.
    "mail-sweep-stuck-sends": {"task": "mail_out.sweep_stuck_sends", "schedule": 300.0},
    # Webhook deliveries whose task was lost (broker down, a worker gone) or whose worker
    # died while sending (webhooks/tasks.py).
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 60.0},
    # Portal: spent and expired sign-in links are kept a day (for support), then deleted.
    "portal-delete-old-sign-in-links": {
        "task": "portal.delete_old_sign_in_links",
        "schedule": 3600.0,
    },
    # The audit log: rows older than AUDIT_RETENTION_DAYS (at least a year) are deleted.
    "audit-purge-expired": {"task": "audit.purge_expired", "schedule": 86400.0},
    # Privacy: the content of tickets closed longer ago than PRIVACY_RETENTION_MONTHS
    # (off by default) is deleted, and the run written to the audit log.
    "privacy-apply-retention": {"task": "privacy.apply_retention", "schedule": 86400.0},
    # Assist: retrain learned routing on the desk's newest solved tickets, nightly.
    "assist-retrain-routing": {"task": "assist.retrain_routing", "schedule": 86400.0},
}
app.autodiscover_tasks()
app.autodiscover_tasks(["tickets.mail"])


def enqueue(
    task: Task,
    *args: Any,
    eta: datetime | None = None,
    otherwise: Callable[[], object] | None = None,
) -> bool:
    """Hand `task(*args)` to the broker; True if it took it. If the broker is down this is
    logged (never the arguments: a sign-in token may be one), `otherwise` runs if given,
    and False is returned."""
    try:
        if eta is None:
            task.delay(*args)
        else:
            task.apply_async(args, eta=eta)
    except BROKER_DOWN:
        log.warning("broker unreachable: %s not enqueued", task.name, exc_info=True)
        if otherwise is not None:
            otherwise()
        return False
    return True


def enqueue_on_commit(
    task: Task, *args: Any, otherwise: Callable[[], object] | None = None
) -> None:
    """`enqueue` once the surrounding transaction commits, so a rolled-back change queues
    nothing (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, otherwise=otherwise))
