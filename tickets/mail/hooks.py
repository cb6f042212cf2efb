"""Where the ticket services hand outbound mail to the mail worker: the receivers of
`tickets.hooks.message_queued` and `ticket_assigned` (registered in MailConfig.ready())."""

from __future__ import annotations

from tickets.mail import notify, sending
from tickets.mail.outbound import prepare_queued
from tickets.models import Message, Ticket, User


def outbound_message_queued(message: Message) -> None:
    """Called inside the transaction that stored an outbound message.

    The message gets its Message-ID and thread headers now, then the sending task is
    enqueued after commit, so that a rolled-back reply is never sent.
    """
    prepare_queued(message)
    sending.enqueue_send(message.pk)


def ticket_assigned(ticket: Ticket, assignee: User, actor_user: User | None) -> None:
    """Called by tickets.services.update_ticket inside the transaction of an assignment."""
    notify.ticket_assigned(ticket, assignee, actor_user)
