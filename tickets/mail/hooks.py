"""Where the ticket services hand outbound mail to the mail worker."""

from tickets.models import Message


def outbound_message_queued(message: Message) -> None:
    """Called inside the transaction that stored an outbound message.

    The message is stored with delivery_status=queued; the sending task is enqueued
    after commit so that a rolled-back reply is never sent.
    """
