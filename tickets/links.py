"""Absolute links to a ticket that mail and notices carry: the customer's page in the
portal (by URL name; the core does not import the portal)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tickets.models import Ticket


def portal_ticket_url(ticket: Ticket) -> str:
    """Absolute URL of the customer's page for `ticket` (sign-in first if needed).

    The outgoing reply e-mail puts this under an agent's answer, so a customer goes
    straight from the notification to the conversation.
    """
    return f"{settings.SITE_URL}{reverse('portal:request', args=[ticket.pk])}"
