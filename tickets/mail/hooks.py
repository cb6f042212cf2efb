"""Where the ticket services hand outbound mail to the mail worker: the receivers of
`tickets.hooks.message_queued` and `ticket_assigned` (registered in MailConfig.ready())."""

from __future__ import annotations

from django.db import transaction

from tickets.models import Message, Ticket, User


def outbound_message_queued(message: Message) -> None:
    """Called inside the transaction that stored an outbound message.

    The message gets its Message-ID and thread headers now, then the sending task is
    enqueued after commit, so that a rolled-back reply is never sent.
    """
    from tickets.mail.outbound import prepare_queued

    prepare_queued(message)
    enqueue_send(message.pk)


def enqueue_send(message_pk: int) -> None:
    from tickets.mail.tasks import send_message

    transaction.on_commit(lambda: send_message.delay(message_pk))


def ticket_assigned(ticket: Ticket, assignee: User, actor_user: User | None) -> None:
    """Called by tickets.services.update_ticket inside the transaction of an assignment."""
    from tickets.mail.notify import ticket_assigned as notify

    notify(ticket, assignee, actor_user)
