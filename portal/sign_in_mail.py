"""The sign-in link e-mail and the clean-up of old links: the work of portal/tasks.py
(the services that queue them are in portal/services.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from console import branding
from helpdesk.branding import signature
from portal.models import SignInLink
from tickets.languages import customer_language
from tickets.models import Customer

SIGN_IN_LINK_LIFETIME = timedelta(minutes=30)


def send_sign_in_email(customer: Customer, token: str) -> None:
    context = {
        "customer": customer,
        "link": f"{settings.SITE_URL}{reverse('portal:redeem', args=[token])}",
        "minutes": int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60),
        # Settings > branding: the help center's title and the product's signature.
        "help_center": branding.current().help_center_title,
        "signature": signature(),
    }
    with translation.override(customer_language(customer)):
        subject = render_to_string("portal/email/sign_in-subject.txt", context).strip()
        body = render_to_string("portal/email/sign_in-body.txt", context)
        html = render_to_string("portal/email/sign_in-body.html", context)
    mail = EmailMultiAlternatives(subject=subject, body=body, to=[customer.email])
    mail.attach_alternative(html, "text/html")
    mail.send()


def delete_old_sign_in_links() -> int:
    """Links expired more than a day ago: nothing can use them any more."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = SignInLink.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
