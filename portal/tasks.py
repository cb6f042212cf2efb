from __future__ import annotations

from celery import shared_task

from helpdesk.celery import TRANSIENT
from portal import sign_in_mail
from tickets.models import Customer


@shared_task(name="mail_out.portal_sign_in_link", **TRANSIENT)
def send_sign_in_link(customer_id: int, token: str) -> None:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return
    sign_in_mail.send_sign_in_email(customer, token)


@shared_task(name="portal.delete_old_sign_in_links", ignore_result=True)
def delete_old_sign_in_links() -> None:
    sign_in_mail.delete_old_sign_in_links()
