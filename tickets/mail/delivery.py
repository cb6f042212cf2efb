"""Delivery state of outbound messages, and its history in the ticket event log.

Every change goes through a conditional update (`filter(state=old).update(state=new)`),
so two workers, or a worker and an agent clicking retry, can never both claim a send.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tickets import services
from tickets.models import DeliveryStatus, EventKind, Message

RETRYABLE = (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)


def record_delivery(
    message: Message, before: str, after: str, error: str = "", **data: object
) -> None:
    services.record_event(
        message.ticket,
        EventKind.DELIVERY,
        actor=services.MAIL,
        before=before,
        after=after,
        message=message,
        data={"error": error[:1000], **data} if error or data else None,
    )


def claim_for_sending(message_pk: int) -> bool:
    """queued/failed -> sending, counting the attempt; False if someone else has it."""
    return (
        Message.objects.filter(pk=message_pk, delivery_status__in=RETRYABLE).update(
            delivery_status=DeliveryStatus.SENDING,
            delivery_attempts=F("delivery_attempts") + 1,
        )
        == 1
    )


@transaction.atomic
def mark_sent(message: Message) -> None:
    now = timezone.now()
    if Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.SENT, delivery_error="", sent_at=now
    ):
        record_delivery(message, DeliveryStatus.SENDING, DeliveryStatus.SENT)


@transaction.atomic
def mark_retrying(message: Message, error: str, *, at: datetime) -> None:
    """A failure that may pass (the server unreachable, a 4xx): back to queued, due again
    `at`. The send queue keeps it however long the outage lasts (mail_out.send_due)."""
    if Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.QUEUED, delivery_error=error[:2000], next_attempt_at=at
    ):
        record_delivery(
            message,
            DeliveryStatus.SENDING,
            DeliveryStatus.QUEUED,
            error,
            will_retry=True,
            retry_at=at.isoformat(),
        )


@transaction.atomic
def mark_failed(message: Message, error: str, *, will_retry: bool) -> None:
    if Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.FAILED, delivery_error=error[:2000]
    ):
        record_delivery(
            message, DeliveryStatus.SENDING, DeliveryStatus.FAILED, error, will_retry=will_retry
        )


@transaction.atomic
def mark_undelivered(message: Message, error: str, *, bounce: Message | None = None) -> None:
    before = message.delivery_status
    Message.objects.filter(pk=message.pk).update(
        delivery_status=DeliveryStatus.UNDELIVERED, delivery_error=error[:2000]
    )
    record_delivery(
        message,
        before,
        DeliveryStatus.UNDELIVERED,
        error,
        **({"bounce_message": bounce.pk} if bounce else {}),
    )
