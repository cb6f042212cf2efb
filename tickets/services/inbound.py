"""What a customer writes on a ticket: one behaviour by mail, in the portal and over the API.

A customer's message continues the conversation of the ticket it answers: a merged
ticket's in the ticket it was merged into, and a closed ticket's (nothing reopens a
closed ticket) in a new follow-up ticket linked to it, as mail always did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tickets import hooks
from tickets.history import merged_target
from tickets.models import (
    Channel,
    Customer,
    Direction,
    Mailbox,
    Message,
    Status,
    Ticket,
    User,
)
from tickets.services.attachments import FilePart, attach_files
from tickets.services.creation import create_inbound_ticket
from tickets.services.customers import get_or_create_customer
from tickets.services.events import Actor
from tickets.services.messages import add_message


def opens_follow_up(ticket: Ticket) -> bool:
    """Whether a customer's message on `ticket` opens a follow-up instead of joining it."""
    return ticket.status == Status.CLOSED


@dataclass(frozen=True)
class CustomerReply:
    """Where a customer's message went: `ticket` is the one it joined or opened (a
    follow-up when `opened_follow_up`), which may not be the ticket it answered."""

    message: Message
    ticket: Ticket
    opened_follow_up: bool


@transaction.atomic
def customer_reply(
    ticket: Ticket,
    *,
    actor: Actor,
    sender: str,
    body_text: str,
    body_html: str = "",
    channel: str = Channel.EMAIL,
    customer: Customer | None = None,
    author: User | None = None,
    mailbox: Mailbox | None = None,
    automatic: bool = False,
    attachments: Iterable[UploadedFile | FilePart] = (),
    ours: set[str] | None = None,
    cc_joins: bool = True,
    **fields: Any,
) -> CustomerReply:
    """A customer's message answering `ticket`, from the address `sender`.

    It joins the conversation of the ticket `ticket` continues in (see
    tickets/history.py), waking it if it was solved or pending (unless `automatic`: an
    out-of-office answer wakes nothing). If that ticket is closed, it opens a follow-up
    linked to it instead, through `channel`, in `mailbox` (the mail's; by default the
    closed ticket's), for `customer` (by default the sender's record), under the
    message's subject (by default the closed ticket's). `fields` are the message's other
    fields (subject, from_name, cc, Message-ID...); `ours`, when the caller knows it, is
    every mailbox address. `cc_joins=False` (mail threaded by its subject tag alone)
    keeps the message's Cc out of the conversation's, the follow-up's too.
    """
    ticket = merged_target(ticket)
    opened = opens_follow_up(ticket)
    if opened:
        customer = customer or get_or_create_customer(sender, fields.get("from_name", ""))
        if ours is None:
            # Kept out of the follow-up's Cc: only a message with a Cc needs them.
            ours = (
                set(Mailbox.objects.values_list("address", flat=True))
                if fields.get("cc")
                else set()
            )
        ticket, message = create_inbound_ticket(
            mailbox=mailbox or ticket.mailbox,
            customer=customer,
            subject=fields.get("subject") or ticket.subject,
            body_text=body_text,
            body_html=body_html,
            actor=actor,
            linked_from=ticket,
            ours=ours,
            message_fields={**fields, "automatic": automatic, "author": author},
            channel=channel,
            cc_joins=cc_joins,
        )
    else:
        message = add_message(
            ticket,
            direction=Direction.INBOUND,
            body_text=body_text,
            body_html=body_html,
            author=author,
            actor=actor,
            from_address=sender,
            automatic=automatic,
            apply_status_rules=not automatic,
            cc_joins=cc_joins,
            **fields,
        )
    attach_files(message, attachments)
    hooks.customer_wrote(message, opened)
    return CustomerReply(message, ticket, opened)
