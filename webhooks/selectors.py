"""Named reads behind the webhook pages and API."""

from __future__ import annotations

from django.db.models import QuerySet

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def attempts(endpoint: WebhookEndpoint) -> QuerySet[WebhookAttempt]:
    """Every attempt to the endpoint, with its delivery (one query per page)."""
    return (
        WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
        .select_related("delivery")
        .order_by("-at", "-id")
    )


def deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first, with each one's last attempt's answer."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-pk")
