"""Thin Celery tasks of the ticket core; the work is in the modules they call."""

from celery import shared_task

from helpdesk.celery import TRANSIENT
from tickets import agent_mail
from tickets.services import field_indexes


@shared_task(name="tickets.send_agent_notification", **TRANSIENT)
def send_agent_notification(user_ids: list[int], ticket_id: int, headline: str, text: str) -> None:
    agent_mail.send_notification_now(user_ids, ticket_id, headline, text)


@shared_task(name=field_indexes.TASK, ignore_result=True)
def ensure_field_index(key: str) -> None:
    field_indexes.ensure_field_index(key)
