"""Sending a delivery: claimed with a conditional update (one sender at a time), signed,
POSTed with the kept HTTP client, its attempt logged; retried with growing delays, the
same `delivery_id` every time; a ticket's deliveries to an endpoint go one at a time, in
order. An endpoint failing without a success for WEBHOOK_DISABLE_AFTER_HOURS is turned
off and the admins told. What enqueues the tasks (webhooks/tasks.py) is never imported
here."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from webhooks import notices, targets
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# Seconds before each retry: the last try comes about 34 hours after the first, past
# the 24 hours the contract promises; then the delivery has failed.
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 12 * 3600)
# A delivery due this long is taken by the sweep: younger ones are still in the hands
# of the task enqueued for them.
SWEEP_AFTER = timedelta(minutes=1)
# How long the sweep leaves a delivery it enqueued before enqueueing it again.
SWEEP_LEASE = timedelta(minutes=5)
# A delivery "sending" this long lost its worker: it is pending again.
STUCK_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def signature(secret: str, timestamp: int, body: str) -> str:
    """`Tandem-Signature`: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _earlier_unsettled() -> Exists:
    """An earlier delivery of the same ticket to the same endpoint not yet settled."""
    return Exists(
        WebhookDelivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"),
            ticket_id=OuterRef("ticket_id"),
            pk__lt=OuterRef("pk"),
            status__in=UNSETTLED,
        )
    )


def sendable(now: datetime) -> QuerySet[WebhookDelivery]:
    """Pending deliveries that are due, to active endpoints, first in their ticket's line."""
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__active=True
    ).exclude(_earlier_unsettled())


def _claim(pk: int, now: datetime) -> bool:
    return (
        sendable(now)
        .filter(pk=pk)
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        == 1
    )


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_at: datetime | None = None
    # The next delivery of the same ticket and endpoint, now first in line.
    following: int | None = None


def send(pk: int) -> Outcome:
    """Send the delivery if it is due and first in its line; what happened."""
    now = timezone.now()
    if not _claim(pk, now):
        return Outcome("skipped")
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
    if not delivery.body:
        # Here, not at the top: the payloads are the REST API's serializers, and DRF must
        # not be imported while the apps load (this module is, by the hook receivers).
        from webhooks import payloads

        delivery.body = payloads.body_of(delivery)
        delivery.save(update_fields=["body"])
    status_code, error, duration_ms = _post(delivery)
    return _settle(delivery, status_code, error, duration_ms)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tandem-Webhooks/1",
        "Tandem-Event": delivery.event,
        "Tandem-Delivery": str(delivery.delivery_id),
        "Tandem-Signature": signature(delivery.endpoint.secret, stamp, delivery.body),
    }
    started = time.monotonic()
    try:
        response = targets.session().post(
            delivery.endpoint.url,
            data=delivery.body.encode(),
            headers=headers,
            timeout=targets.TIMEOUT,
            allow_redirects=False,
        )
        response.close()
    except requests.RequestException as failure:
        return None, _describe(failure), _ms_since(started)
    code = response.status_code
    refused = "" if 200 <= code < 300 else f"HTTP {code} {response.reason or ''}".strip()
    return code, refused, _ms_since(started)


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "Timed out (10 s)."
    return str(error)[:500] or type(error).__name__


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _settle(
    delivery: WebhookDelivery, status_code: int | None, error: str, duration_ms: int
) -> Outcome:
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error[:500],
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
    else:
        if delivery.attempts <= len(RETRY_DELAYS):
            delivery.status = DeliveryStatus.PENDING
            delay = RETRY_DELAYS[delivery.attempts - 1]
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        else:
            delivery.status = DeliveryStatus.FAILED
        _failed(endpoint, now)
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    if delivery.status == DeliveryStatus.PENDING:
        return Outcome(delivery.status, retry_at=delivery.next_attempt_at)
    return Outcome(delivery.status, following=_next_in_line(delivery))


def _failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
        return
    limit = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if endpoint.active and now - endpoint.failing_since >= limit:
        notices.disable_failing(endpoint, now)


def _next_in_line(delivery: WebhookDelivery) -> int | None:
    if delivery.ticket_id is None:
        return None
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            ticket_id=delivery.ticket_id,
            pk__gt=delivery.pk,
            status=DeliveryStatus.PENDING,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def release_stuck(now: datetime | None = None) -> int:
    """Deliveries whose worker died while sending are pending again (the receiver drops a
    repeat by its id); how many."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lte=now - STUCK_AFTER
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now)


def lease_due(now: datetime | None = None) -> list[int]:
    """Deliveries whose task was lost (the broker down, a worker gone): each leased with a
    conditional update, so that a sweep in another process skips it; their ids."""
    now = now or timezone.now()
    settled = now - SWEEP_AFTER
    due = list(
        sendable(settled)
        .filter(Q(swept_at=None) | Q(swept_at__lte=now - SWEEP_LEASE))
        .order_by("pk")
        .values_list("pk", "swept_at")[:SWEEP_BATCH]
    )
    return [
        pk
        for pk, swept_at in due
        if WebhookDelivery.objects.filter(pk=pk, swept_at=swept_at).update(swept_at=now)
    ]
