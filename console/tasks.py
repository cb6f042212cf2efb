from __future__ import annotations

from celery import shared_task

from console import invite_mail
from helpdesk.celery import TRANSIENT
from tickets.models import User


@shared_task(name="mail_out.console_invitation", **TRANSIENT)
def send_invitation(user_id: int, language: str | None = None) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    invite_mail.send_invitation_email(user, language)
