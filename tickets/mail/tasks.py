"""Thin Celery tasks of mail in: each loads its row, returns early if gone, calls a service.
The send tasks live with the code that enqueues them (tickets/mail/sending.py), which the
IMAP poll reaches too (an auto-acknowledgement is sent)."""

from __future__ import annotations

from celery import shared_task

from tickets.mail.imap import due_mailbox_ids, poll
from tickets.models import Mailbox


@shared_task(name="mail.poll_due_mailboxes", ignore_result=True)
def poll_due_mailboxes() -> None:
    for mailbox_id in due_mailbox_ids():
        poll_mailbox.delay(mailbox_id)


@shared_task(name="mail.poll_mailbox", ignore_result=True)
def poll_mailbox(mailbox_id: int) -> None:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).exclude(imap_host="").first()
    if mailbox is not None:
        poll(mailbox)
