"""Thin Celery tasks for mail: each loads its row, returns early if gone, calls a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="mail_out.send_message", ignore_result=True, max_retries=None)
def send_message(self, message_pk: int) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    from tickets.mail.outbound import TransientSendError
    from tickets.mail.outbound import send_message as send

    try:
        send(message_pk)
    except TransientSendError as exc:
        if self.request.retries >= settings.MAIL_SEND_MAX_RETRIES:
            return
        countdown = settings.MAIL_SEND_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="mail_out.sweep_stuck_sends", ignore_result=True)
def sweep_stuck_sends() -> None:
    from tickets.mail.outbound import sweep_stuck_sends as sweep

    sweep()


@shared_task(name="mail.poll_due_mailboxes", ignore_result=True)
def poll_due_mailboxes() -> None:
    from tickets.mail.imap import due_mailbox_ids

    for mailbox_id in due_mailbox_ids():
        poll_mailbox.delay(mailbox_id)


@shared_task(name="mail.poll_mailbox", ignore_result=True)
def poll_mailbox(mailbox_id: int) -> None:
    from tickets.mail.imap import poll
    from tickets.models import Mailbox

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).exclude(imap_host="").first()
    if mailbox is not None:
        poll(mailbox)
