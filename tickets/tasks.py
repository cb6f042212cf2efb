"""Thin Celery tasks for the ticket workflow; the work is in the modules they call."""

from celery import shared_task
from django.db import OperationalError

from tickets import notify
from tickets.workflow import automation, collab, sla


@shared_task(
    name="tickets.send_agent_notification",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_agent_notification(user_ids: list[int], ticket_id: int, headline: str, text: str) -> None:
    notify.send_notification_now(user_ids, ticket_id, headline, text)


@shared_task(name="tickets.run_scheduled_rules", ignore_result=True)
def run_scheduled_rules() -> None:
    automation.run_scheduled_rules()


@shared_task(name="tickets.check_sla", ignore_result=True)
def check_sla() -> None:
    sla.check_sla()


@shared_task(name="tickets.wake_snoozed", ignore_result=True)
def wake_snoozed() -> None:
    collab.wake_snoozed()
    collab.send_due_reminders()
