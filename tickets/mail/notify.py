"""Mail we write ourselves: auto-acknowledgements to customers, notices to agents.

Each email is a template triple under templates/tickets/email/: <name>-subject.txt,
<name>-body.txt and <name>-body.html. Auto-acknowledgements are ticket messages (they
show in the conversation and go out through the same send task as agent replies).
Agent notices (assignment, customer reply, by each agent's preferences) go through the
workspace's agent notification path (tickets/notify.py, Django's default mailer).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db.models import QuerySet
from django.template import Context as TemplateContext
from django.template import Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks

from helpdesk.branding import product_name
from tickets import notify as agent_notify
from tickets import services
from tickets.languages import customer_language
from tickets.links import portal_ticket_url
from tickets.mail.tokens import subject_with_token
from tickets.models import Channel, Direction, Message, NotificationKind, Ticket, User

logger = logging.getLogger(__name__)

# Senders nobody reads: an acknowledgement to them would bounce or answer back.
NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|donotreply|noreply-[\w.-]+|forms?)@", re.I)


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of templates/tickets/email/<name>-*."""
    base = f"tickets/email/{name}"
    subject = " ".join(render_to_string(f"{base}-subject.txt", context).split())
    text = render_to_string(f"{base}-body.txt", context).strip() + "\n"
    html = render_to_string(f"{base}-body.html", context)
    return subject, text, html


# An admin-written text (a mailbox's acknowledgement) is rendered by an engine of its own:
# no tag library beyond Django's built-in tags, no template to include or extend, and a
# context of plain strings only (mail_context), so no {{ mailbox.smtp_password }},
# {{ ticket.customer.user.password }} nor {% include %} reaches past the listed values.
ADMIN_TEXT_ENGINE = Engine(loaders=[], libraries={}, autoescape=False)
# What a broken admin-written text raises: bad syntax, or a template it names.
TEXT_ERRORS = (TemplateSyntaxError, TemplateDoesNotExist)


def mail_context(ticket: Ticket) -> dict[str, dict[str, str]]:
    """What customer mail templates may name: plain strings, never model instances."""
    customer, mailbox = ticket.customer, ticket.mailbox
    return {
        "ticket": {
            "number": str(ticket.pk),
            "subject": ticket.subject,
            "url": portal_ticket_url(ticket),
        },
        "customer": {
            "name": customer.name,
            "first_name": customer.first_name,
            "email": customer.email,
        },
        "mailbox": {
            "name": mailbox.name,
            "address": mailbox.address,
            "from_name": mailbox.from_name or mailbox.name,
            "signature": mailbox.signature,
        },
        # The product's name (settings > branding).
        "product": {"name": product_name()},
    }


def render_admin_text(source: str, context: dict[str, Any]) -> str:
    """An admin-written text filled from `context`; TemplateSyntaxError if it is broken."""
    return ADMIN_TEXT_ENGINE.from_string(source).render(TemplateContext(context))


def check_admin_text(source: str) -> None:
    """Raise one of TEXT_ERRORS if `source` would not render (bad syntax, an {% include %}):
    rendered once with sample values, as the form saves it."""
    sample = {
        "ticket": {"number": "1", "subject": "Subject", "url": "https://example.com/"},
        "customer": {"name": "Ann Lee", "first_name": "Ann", "email": "ann@example.com"},
        "mailbox": {
            "name": "Support",
            "address": "support@example.com",
            "from_name": "Support",
            "signature": "",
        },
    }
    render_admin_text(source, sample)


def auto_ack(
    message: Message, replies: services.AutoReplies | None = None
) -> dict[str, Any] | None:
    """The acknowledgement of a new ticket's first message, as `services.add_message`
    arguments, or None when its mailbox sends none or nobody would read it: a no-reply
    sender (a form or notification relay with no Reply-To) bounces it or answers it, and
    an auto-responder that does not say so would loop (`services.AutoReplies`, which the
    caller may have loaded for a whole batch)."""
    ticket = message.ticket
    mailbox = ticket.mailbox
    if not mailbox.auto_ack_enabled or NO_REPLY.match(ticket.customer.email):
        return None
    if replies is None:
        replies = services.AutoReplies.load([ticket.customer_id])
    if not replies.allow(message):
        return None
    context = mail_context(ticket)
    with translation.override(customer_language(ticket.customer)):
        subject, text, html = render_email("auto_ack", context)
    if mailbox.auto_ack_template.strip():
        try:
            text = render_admin_text(mailbox.auto_ack_template, context)
            html = linebreaks(text, autoescape=True)
        except TEXT_ERRORS:
            # Saved before the form checked what it renders (an {% include %}): the
            # default text rather than no acknowledgement, or a failed ingest.
            logger.warning("Mailbox %s: its acknowledgement text does not render", mailbox.pk)
    return {
        "direction": Direction.OUTBOUND,
        "body_text": text,
        "body_html": html,
        "automatic": True,
        "from_address": mailbox.address,
        "subject": subject_with_token(subject, ticket.pk),
        "to": [ticket.customer.email],
        "in_reply_to": message.message_id,
        "references": " ".join(filter(None, [message.references, message.message_id])),
    }


def queue_auto_ack(message: Message) -> Message | None:
    """Store the acknowledgement for a new ticket's first message; the worker sends it."""
    fields = auto_ack(message)
    if fields is None:
        return None
    return services.add_message(message.ticket, actor=services.MAIL, **fields)


def customer_wrote(message: Message, *, opened_ticket: bool) -> None:
    """What a customer's message sets off, whatever door it came through: a ticket it
    opened by mail is acknowledged (a request filed in the portal or over the API is
    on the customer's screen already), a reply is told to the agents. Nothing for an
    automatic message (an out-of-office answer)."""
    if message.automatic:
        return
    if not opened_ticket:
        customer_replied(message)
    elif message.ticket.channel == Channel.EMAIL:
        queue_auto_ack(message)


def customer_replied(message: Message) -> None:
    """Tell whoever should answer a customer's reply (by email or in the portal), if they
    asked to be told: the assignee, or on an unassigned ticket the agents of its team
    (without a team, those who work in its mailbox) who chose to hear of those."""
    ticket = message.ticket
    agent = ticket.assignee
    who = message.from_name or message.from_address
    text = message.body_text[:500]

    def headline() -> str:
        return translation.gettext("New reply from %(who)s") % {"who": who}

    if agent is not None:
        # In the app and by email, as the assignee chose (tickets.notify.notify_agents).
        agent_notify.notify_agents(
            [agent], message.ticket_id, headline, text, kind=NotificationKind.CUSTOMER_REPLY
        )
        return
    told = list(reply_watchers(ticket))
    if told:
        agent_notify.notify_agents(told, message.ticket_id, headline, text)


def reply_watchers(ticket: Ticket) -> QuerySet[User]:
    """Active agents who asked to hear of customer replies on `ticket` while nobody owns it:
    its team's (without a team, everyone's who works in its mailbox), only those who may
    open it (User.objects.may_open) in either case."""
    agents = User.objects.may_open(ticket.mailbox_id)
    if ticket.team_id is not None:
        agents = agents.filter(teams=ticket.team_id)
    return agents.filter(notify_on_unassigned_reply=True)


def ticket_assigned(ticket: Ticket, assignee: User, actor_user: User | None) -> None:
    """Tell an agent another person assigned them a ticket.

    Not when they took it themselves, and not for rule or system assignments: a rule that
    should tell someone has its own notify action, and one event should be one email.
    """
    if actor_user is None or actor_user.pk == assignee.pk:
        return
    by = actor_user.display_name
    agent_notify.notify_agents(
        [assignee],
        ticket.pk,
        lambda: translation.gettext("%(name)s assigned you a ticket") % {"name": by},
        f"#{ticket.pk} {ticket.subject}",
        kind=NotificationKind.ASSIGNMENT,
    )
