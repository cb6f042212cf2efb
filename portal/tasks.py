from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from portal import sign_in_mail
from tickets.models import Customer


@shared_task(
    name="mail_out.portal_sign_in_link",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def send_sign_in_link(customer_id: int, token: str) -> None:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return
    sign_in_mail.send_sign_in_email(customer, token)


@shared_task(name="portal.delete_old_sign_in_links", ignore_result=True)
def delete_old_sign_in_links() -> None:
    sign_in_mail.delete_old_sign_in_links()
