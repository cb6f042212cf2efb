"""Thin Celery tasks of mail in: each loads its row, returns early if gone, calls a service.
The send tasks live with the code that enqueues them (tickets/mail/sending.py), which the
IMAP poll reaches too (an auto-acknowledgement is sent)."""

from __future__ import annotations

from celery import shared_task

from helpdesk.celery import enqueue
from tickets.mail.imap import due_mailbox_ids, poll
from tickets.mail.inbound import due_inbound_ids, ingest_inbound
from tickets.mail.intake import release_outage_quarantine
from tickets.models import Mailbox


@shared_task(name="mail.poll_due_mailboxes", ignore_result=True)
def poll_due_mailboxes() -> None:
    for mailbox_id in due_mailbox_ids():
        enqueue(poll_mailbox, mailbox_id)


@shared_task(name="mail.poll_mailbox", ignore_result=True)
def poll_mailbox(mailbox_id: int) -> None:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).exclude(imap_host="").first()
    if mailbox is not None:
        poll(mailbox)


@shared_task(name="mail.ingest_inbound", ignore_result=True)
def ingest_inbound_task(entry_id: int) -> None:
    # Claims the row first: a second run, or one after it is done, does nothing.
    ingest_inbound(entry_id)


@shared_task(name="mail.sweep_inbound", ignore_result=True)
def sweep_inbound() -> None:
    for entry_id in due_inbound_ids():
        enqueue_ingest(entry_id)
    release_outage_quarantine()


def enqueue_ingest(entry_id: int) -> None:
    """The fast path; if the broker is down the row waits for mail.sweep_inbound."""
    enqueue(ingest_inbound_task, entry_id)
