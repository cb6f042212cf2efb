"""The invitation e-mail: the work of console/tasks.py (queued by console.agents)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from console.invites import INVITE_LIFETIME, invite_token, is_invited
from helpdesk.branding import product_name, signature
from tickets.models import User

logger = logging.getLogger(__name__)


def send_invitation_email(user: User, language: str | None = None) -> None:
    """Mail a fresh link to an invited user (nothing, once they accepted), in `language`
    (the inviter's choice) or LANGUAGE_CODE."""
    if not is_invited(user):
        return
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        _send(user)


def _send(user: User) -> None:
    context = {
        "user": user,
        "link": f"{settings.SITE_URL}{reverse('console:accept', args=[invite_token(user)])}",
        "days": INVITE_LIFETIME.days,
        # Settings > branding: the product's name, and the signature it gives mail.
        "product": product_name(),
        "signature": signature(),
    }
    mail = EmailMultiAlternatives(
        subject=render_to_string("console/email/invite-subject.txt", context).strip(),
        body=render_to_string("console/email/invite-body.txt", context),
        to=[user.email],
        headers={"Content-Language": translation.get_language()},
    )
    mail.attach_alternative(
        render_to_string("console/email/invite-body.html", context), "text/html"
    )
    mail.send()


def send_or_log(user: User, language: str | None = None) -> None:
    """With the broker down, mailed from the request; if the mail server is down too,
    the admin's "Send again" on the agents page mails a new link."""
    try:
        send_invitation_email(user, language)
    except OSError:  # smtplib's errors are OSErrors, as are refused connections
        logger.warning("the invitation of user %s could not be mailed", user.pk, exc_info=True)
