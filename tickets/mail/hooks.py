"""Where the ticket services hand mail to the mail app: the receivers of
`tickets.hooks.message_queued`, `ticket_assigned` and `customer_wrote` (registered in
MailConfig.ready())."""

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


def customer_wrote(message: Message, opened_ticket: bool) -> None:
    """Called by tickets.services.customer_reply inside the transaction of the message."""
    notify.customer_wrote(message, opened_ticket=opened_ticket)
