"""Sending the notification emails agents get (the work of the send_agent_notification
task; tickets/notify.py decides who gets what and queues it)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Subquery
from django.template.loader import render_to_string
from django.utils import translation

from helpdesk import branding
from tickets.models import Ticket, User


def ticket_url(ticket_id: int) -> str:
    return f"{settings.SITE_URL}/tickets/{ticket_id}/"


def send_notification_now(user_ids: list[int], ticket_id: int, headline: str, text: str) -> int:
    """Send the emails (called by the task); returns how many were sent. Each is worded
    in its agent's language when they chose one, else in the desk's (LANGUAGE_CODE)."""
    context = {
        "headline": headline,
        "text": text,
        "url": ticket_url(ticket_id),
        "number": ticket_id,
        # The subject's tag stays the product's own name, as before (no query per notice).
        "product": branding.DEFAULT_PRODUCT_NAME,
    }
    sent = 0
    # Only to people who may open the ticket, whoever asked (a rule, a mention, a team's
    # reply notice): the text quotes it. User.objects.may_open is who may open a
    # ticket of a mailbox, as Ticket.objects.visible_to decides.
    mailbox = Subquery(Ticket.objects.filter(pk=ticket_id).values("mailbox_id")[:1])
    for user in User.objects.may_open(mailbox).filter(pk__in=user_ids):
        with translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE):
            subject = render_to_string("tickets/email/agent-notification-subject.txt", context)
            body = render_to_string("tickets/email/agent-notification-body.txt", context)
            html = render_to_string("tickets/email/agent-notification-body.html", context)
        mail = EmailMultiAlternatives(
            " ".join(subject.split()),
            body,
            to=[user.email],
            # RFC 3834: an agent's out-of-office robot must not answer a notice (its answer
            # could land in a mailbox as a customer's mail).
            headers={"Auto-Submitted": "auto-generated"},
        )
        mail.attach_alternative(html, "text/html")
        sent += mail.send()
    return sent
