"""The send tasks, and handing outbound messages to them: after commit, so that a
rolled-back reply is never sent. What the tasks run (tickets/mail/outbound.py,
delivery.py) never imports this module."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import transaction

from tickets.mail import outbound
from tickets.mail.delivery import record_delivery
from tickets.models import DeliveryStatus, Message


@shared_task(bind=True, name="mail_out.send_message", ignore_result=True, max_retries=None)
def send_message(self, message_pk: int) -> None:  # type: ignore[no-untyped-def]
    try:
        outbound.send_message(message_pk)
    except outbound.TransientSendError as exc:
        if self.request.retries >= settings.MAIL_SEND_MAX_RETRIES:
            return
        countdown = settings.MAIL_SEND_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="mail_out.sweep_stuck_sends", ignore_result=True)
def sweep_stuck_sends() -> None:
    outbound.sweep_stuck_sends()


def enqueue_send(message_pk: int) -> None:
    send_message.delay_on_commit(message_pk)


@transaction.atomic
def requeue(message: Message) -> bool:
    """An agent's retry of a failed send: failed -> queued, then the send task runs."""
    if not Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.FAILED).update(
        delivery_status=DeliveryStatus.QUEUED
    ):
        return False
    record_delivery(message, DeliveryStatus.FAILED, DeliveryStatus.QUEUED)
    enqueue_send(message.pk)
    return True
