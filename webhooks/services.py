"""Endpoints registered, changed, their secret rotated, deleted; a delivery sent again; a
test delivery. Every change is in the audit log; the events, the URL (never a private
address) and the secret are checked here, whatever the door (the settings page, the API)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import record
from tickets.models import User
from webhooks import subscriptions, targets
from webhooks.models import (
    TEST_EVENT,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.tasks import enqueue_sends


class InvalidEndpoint(ValueError):
    """Refused input, by field: `errors` maps a field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def clean(url: str, events: Iterable[str]) -> list[str]:
    """The events as stored (known, each once, in the contract's order); InvalidEndpoint
    naming `url` or `events` otherwise."""
    errors: dict[str, str] = {}
    chosen = set(events)
    unknown = sorted(chosen - set(WebhookEvent.values))
    if unknown:
        errors["events"] = _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}
    elif not chosen:
        errors["events"] = _("Choose at least one event.")
    try:
        targets.check_url(url)
    except targets.RefusedTarget as refused:
        errors["url"] = str(refused)
    if errors:
        raise InvalidEndpoint(errors)
    return [event for event in WebhookEvent.values if event in chosen]


def _audit(endpoint: WebhookEndpoint, action: str, actor: User | None, **data: object) -> None:
    record(
        AuditKind.WEBHOOK,
        action=action,
        actor=actor,
        target=endpoint,
        target_label=f"webhook {endpoint.url}",
        data=data,
    )


@transaction.atomic
def create_endpoint(
    *, url: str, events: Iterable[str], active: bool = True, description: str = "", actor: User
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        events=clean(url, events),
        active=active,
        description=description,
        secret=new_secret(),
        created_by=actor,
    )
    _audit(endpoint, "created", actor, events=endpoint.events, active=active)
    subscriptions.changed()
    return endpoint


@transaction.atomic
def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str,
    events: Iterable[str],
    active: bool,
    description: str,
    actor: User,
) -> WebhookEndpoint:
    """Turning an endpoint back on forgets its failures: it gets a fresh day."""
    endpoint.events = clean(url, events)
    if active and not endpoint.active:
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    endpoint.url, endpoint.active, endpoint.description = url, active, description
    endpoint.save()
    _audit(endpoint, "changed", actor, url=url, events=endpoint.events, active=active)
    subscriptions.changed()
    return endpoint


@transaction.atomic
def rotate_secret(endpoint: WebhookEndpoint, *, actor: User) -> str:
    """A new secret, in force for the next attempt of every delivery; returned once."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    _audit(endpoint, "secret rotated", actor)
    return endpoint.secret


@transaction.atomic
def delete_endpoint(endpoint: WebhookEndpoint, *, actor: User) -> None:
    _audit(endpoint, "deleted", actor)
    endpoint.delete()
    subscriptions.changed()


@transaction.atomic
def redeliver(delivery: WebhookDelivery) -> bool:
    """A settled delivery (delivered or failed) sent again: the same id and body, its
    attempts continuing; False if it is still pending or sending."""
    settled = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
    if not WebhookDelivery.objects.filter(pk=delivery.pk, status__in=settled).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), swept_at=None
    ):
        return False
    enqueue_sends([delivery.pk])
    return True


@transaction.atomic
def send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` delivery, sent like any other (logged, signed, retried)."""
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=TEST_EVENT)
    enqueue_sends([delivery.pk])
    return delivery
