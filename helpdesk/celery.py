"""The one Celery app: queues and the beat schedule.

Queues: mail_in (IMAP polling, ingest), mail_out (SMTP sending), metrics (per-ticket
figures) and default (everything else). Apps add their periodic tasks to
BEAT_SCHEDULE here, so the whole schedule reads in one place.
"""

import os
from typing import Any

from celery import Celery
from django.db import OperationalError
from kombu import Queue

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
}
app.conf.beat_schedule = {
    # Per-ticket figures whose incremental update was lost (broker outage, crash).
    "metrics-sweep-stale-figures": {"task": "metrics.sweep_stale_figures", "schedule": 600.0},
    # NPS: once a day, customers active lately and not asked within NPS_THROTTLE_DAYS.
    "metrics-nps-invitations": {"task": "metrics.send_nps_invitations", "schedule": 86400.0},
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
}
app.autodiscover_tasks()
app.autodiscover_tasks(["tickets.mail"])
