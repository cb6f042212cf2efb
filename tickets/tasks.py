"""Thin Celery tasks of the ticket core; the work is in the modules they call."""

from celery import shared_task
from django.db import OperationalError

from tickets import agent_mail


@shared_task(
    name="tickets.send_agent_notification",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_agent_notification(user_ids: list[int], ticket_id: int, headline: str, text: str) -> None:
    agent_mail.send_notification_now(user_ids, ticket_id, headline, text)
