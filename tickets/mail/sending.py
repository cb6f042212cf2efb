"""The send tasks, and handing outbound messages to them.

The database is the record of what must be sent: a queued message carries when it is due
(`next_attempt_at`). Storing it enqueues the send task after commit, the fast path; if
the broker is down then, or the task is lost with a worker, `send_due` (every minute,
from beat) finds the row still queued and due and sends it. A send is claimed with a
conditional update (tickets/mail/delivery.py), so a second task for the same message does
nothing: every reply goes out once, whatever was lost on the way. What the tasks run
(tickets/mail/outbound.py, delivery.py) never imports this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk.celery import enqueue, enqueue_on_commit
from tickets.mail import outbound
from tickets.mail.delivery import record_delivery
from tickets.models import DeliveryStatus, Message

# A message due this long is taken by the sweep: younger ones are still in the hands of
# the task enqueued when they were stored.
SWEEP_AFTER = timedelta(minutes=1)
# How long a sweep leaves a message it enqueued before enqueueing it again.
SWEEP_LEASE = timedelta(minutes=5)
SWEEP_BATCH = 500


@shared_task(name="mail_out.send_message", ignore_result=True)
def send_message(message_pk: int) -> None:
    if outbound.send_message(message_pk) == "retrying":
        _enqueue_retry(message_pk)


@shared_task(name="mail_out.send_due", ignore_result=True)
def send_due() -> None:
    send_due_messages()


@shared_task(name="mail_out.sweep_stuck_sends", ignore_result=True)
def sweep_stuck_sends() -> None:
    outbound.sweep_stuck_sends()


def enqueue_send(message_pk: int) -> None:
    """After commit, hand the message to a send task. A broker that is down is no error
    for the agent: the message is stored, queued and due, and the sweep sends it."""
    enqueue_on_commit(send_message, message_pk)


def _enqueue_retry(message_pk: int) -> None:
    """The fast path of a retry: a task at the due time. If it is lost (a restart, the
    broker), the row is still queued and due, and send_due takes it."""
    if send_message.app.conf.task_always_eager:
        return  # tasks run in-process ignore the due time: the sweep alone retries there
    due = Message.objects.filter(pk=message_pk).values_list("next_attempt_at", flat=True).first()
    enqueue(send_message, message_pk, eta=due)


def send_due_messages(*, now: datetime | None = None) -> int:
    """Enqueue every queued message that is due; returns how many."""
    now = now or timezone.now()
    settled = now - SWEEP_AFTER
    due = list(
        Message.objects.filter(delivery_status=DeliveryStatus.QUEUED)
        .filter(
            # Rows written in bulk (a mail batch's acknowledgements) may carry no due time.
            Q(next_attempt_at__lte=settled) | Q(next_attempt_at=None, created_at__lte=settled)
        )
        .order_by(F("next_attempt_at").asc(nulls_first=True))
        .values_list("pk", "next_attempt_at")[:SWEEP_BATCH]
    )
    sent = 0
    for pk, due_at in due:
        # Leased with a conditional update: a sweep in another process skips it.
        leased = Message.objects.filter(
            pk=pk, delivery_status=DeliveryStatus.QUEUED, next_attempt_at=due_at
        ).update(next_attempt_at=now + SWEEP_LEASE)
        if leased and enqueue(send_message, pk):
            sent += 1
        elif leased:
            break  # the broker is down: the rest wait for the next sweep
    return sent


@transaction.atomic
def requeue(message: Message) -> bool:
    """An agent's retry of a failed send: failed -> queued, then the send task runs."""
    if not Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.FAILED).update(
        delivery_status=DeliveryStatus.QUEUED, delivery_error="", next_attempt_at=timezone.now()
    ):
        return False
    record_delivery(message, DeliveryStatus.FAILED, DeliveryStatus.QUEUED)
    enqueue_send(message.pk)
    return True
