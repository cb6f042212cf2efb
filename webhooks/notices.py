"""An endpoint that keeps failing is turned off, in the audit log, and the admins told."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from audit.models import AuditKind
from audit.services import record
from tickets.models import Role, User
from webhooks import subscriptions
from webhooks.models import WebhookEndpoint

log = logging.getLogger(__name__)


def disable_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Turn off an endpoint failing since `endpoint.failing_since` (the caller holds its
    row locked); the admins are mailed after commit."""
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = (
        f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
    )
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    subscriptions.changed()
    record(
        AuditKind.WEBHOOK,
        action="disabled",
        actor_label="webhooks",
        target=endpoint,
        target_label=f"webhook {endpoint.url}",
        data={"reason": endpoint.disabled_reason},
    )
    transaction.on_commit(lambda: mail_admins(endpoint.pk))


def mail_admins(endpoint_id: int) -> int:
    """Tell every active admin that the endpoint was turned off; how many were mailed."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return 0
    context = {
        "endpoint": endpoint,
        "url": f"{settings.SITE_URL}{reverse('webhooks:edit', args=[endpoint.pk])}",
    }
    subject = " ".join(render_to_string("webhooks/email/disabled-subject.txt", context).split())
    body = render_to_string("webhooks/email/disabled-body.txt", context)
    html = render_to_string("webhooks/email/disabled-body.html", context)
    sent = 0
    for admin in User.objects.filter(role=Role.ADMIN, is_active=True).exclude(email=""):
        mail = EmailMultiAlternatives(subject, body, to=[admin.email])
        mail.attach_alternative(html, "text/html")
        try:
            sent += mail.send()
        except OSError:
            log.warning("webhook %s disabled: mail to %s failed", endpoint.pk, admin.pk)
    return sent
