"""The send task, the sweep, and handing deliveries to them (beside the code that
enqueues them again: a retry, the next of a ticket's deliveries)."""

from __future__ import annotations

from celery import shared_task

from helpdesk.celery import enqueue, enqueue_on_commit
from webhooks import sending


@shared_task(name="webhooks.send_delivery", ignore_result=True)
def send_delivery(delivery_pk: int) -> None:
    outcome = sending.send(delivery_pk)
    if outcome.retry_at is not None and not send_delivery.app.conf.task_always_eager:
        # Tasks run in-process ignore the due time: the sweep alone retries there.
        enqueue(send_delivery, delivery_pk, eta=outcome.retry_at)
    if outcome.following is not None:
        enqueue(send_delivery, outcome.following)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> None:
    sweep_deliveries()


def enqueue_sends(delivery_pks: list[int]) -> None:
    """After commit, a send task for each: those not first in their ticket's line do
    nothing, and are enqueued again when the one before them settles. A broker that is
    down is no error: the rows are pending and due, and the sweep takes them."""
    for pk in delivery_pks:
        enqueue_on_commit(send_delivery, pk)


def sweep_deliveries() -> int:
    """Deliveries stuck in a dead worker are released, then every due delivery whose
    task was lost is enqueued; how many were enqueued."""
    sending.release_stuck()
    enqueued = 0
    for pk in sending.lease_due():
        if not enqueue(send_delivery, pk):
            break  # the broker is down: the next sweep takes the rest
        enqueued += 1
    return enqueued
