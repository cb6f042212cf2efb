"""The widget's rules: who the visitor is, what they may follow, and how they write."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core import signing
from django.db import transaction
from django.http import Http404

from audit.models import AuditKind
from audit.services import record
from helpdesk.cache import UNREACHABLE, unavailable, writer
from kb.models import RequestFormVisit
from portal.selectors import public_conversation
from portal.services import parse_visit_id, suggestions_shown
from tickets import services as ticket_services
from tickets.models import ActorKind, Channel, Ticket
from tickets.services import Actor
from widget.models import WidgetSite, WidgetTicket, new_secret

CUSTOMER = Actor(ActorKind.CUSTOMER)
TOKEN_SALT = "widget.conversation"  # noqa: S105 (a namespace, not a secret)
# How long a browser may follow a conversation it opened without opening the widget again.
TOKEN_MAX_AGE = 30 * 24 * 3600
PAGE_URL_HEADER = "Page-URL"
IDENTITY_HEADER = "Identity"


def channel_name(ticket_id: int) -> str:
    return f"tandem:widget:ticket:{ticket_id}"


def identity_hash(secret: str, email: str) -> str:
    """What the site's server computes for its signed-in user: HMAC-SHA256, hex."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def verified_email(site: WidgetSite, email: str, user_hash: str) -> str | None:
    """The address the site vouches for, or None without a valid hash for it."""
    if not email or not user_hash:
        return None
    expected = identity_hash(site.secret, email)
    return email.strip().lower() if hmac.compare_digest(expected, user_hash.lower()) else None


def active_site(key: str) -> WidgetSite:
    site = WidgetSite.objects.filter(key=key, enabled=True).select_related("mailbox").first()
    if site is None:
        raise Http404("No such widget")
    return site


@dataclass(frozen=True)
class Follow:
    """What a conversation token lets its browser do: follow one ticket of one site."""

    site_id: int
    ticket_id: int


def conversation_token(site: WidgetSite, ticket: Ticket) -> str:
    return signing.dumps({"s": site.pk, "t": ticket.pk}, salt=TOKEN_SALT, compress=True)


def read_token(token: str) -> Follow:
    """The conversation a token follows; 404 for a forged, foreign or expired one."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        return Follow(int(data["s"]), int(data["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("No such conversation") from exc


def followed_ticket(token: str) -> Ticket:
    follow = read_token(token)
    ticket = (
        Ticket.objects.filter(pk=follow.ticket_id, widget_ticket__site_id=follow.site_id)
        .shown_to_customers()
        .first()
    )
    if ticket is None:
        raise Http404("No such conversation")
    return ticket


def new_messages(ticket_id: int, after: int) -> list[dict[str, Any]]:
    """The customer-visible messages after message id `after`, as the widget shows them."""
    ticket = Ticket.objects.get(pk=ticket_id)
    return [
        {
            "id": message.pk,
            "mine": message.direction == "inbound",
            # The panel names the sides in the visitor's language ("You", "Support"); an
            # agent by their first name.
            "author": message.author.first_name
            if message.direction != "inbound" and message.author
            else "",
            "body": message.body_text,
            "at": message.created_at.isoformat(),
        }
        for message in public_conversation(ticket)
        if message.pk > after
    ]


@transaction.atomic
def file_ticket(
    site: WidgetSite,
    *,
    email: str,
    name: str,
    subject: str,
    body: str,
    page_url: str,
    verified: bool,
    visit_id: str = "",
) -> Ticket:
    """A ticket from the widget's contact form, carrying the page it was written on and
    whether the site vouched for the address."""
    customer = ticket_services.get_or_create_customer(email, name)
    ticket = ticket_services.create_ticket(
        mailbox=site.mailbox,
        customer=customer,
        subject=subject,
        body_text=body,
        channel=Channel.CHAT,
        actor=CUSTOMER,
        message_fields={
            "from_name": name,
            "headers": {
                PAGE_URL_HEADER: page_url,
                IDENTITY_HEADER: "verified by the site" if verified else "not verified",
            },
        },
    )
    WidgetTicket.objects.create(site=site, ticket=ticket, verified=verified)
    if visit_id:
        RequestFormVisit.objects.filter(
            pk=parse_visit_id(visit_id), customer__isnull=True, ticket__isnull=True
        ).update(ticket=ticket, customer=customer, filed_at=ticket.created_at)
    return ticket


def reply(site_id: int, ticket: Ticket, body: str) -> Ticket:
    """The visitor's message on their conversation: the same as their reply by mail (a
    closed ticket opens a follow-up, which this browser then follows)."""
    with transaction.atomic():
        sent = ticket_services.customer_reply(
            ticket,
            actor=CUSTOMER,
            sender=ticket.customer.email,
            body_text=body,
            channel=Channel.CHAT,
            customer=ticket.customer,
            from_name=ticket.customer.name,
        )
        if sent.ticket.pk != ticket.pk:
            verified = WidgetTicket.objects.filter(ticket=ticket).values_list("verified", flat=True)
            WidgetTicket.objects.get_or_create(
                ticket=sent.ticket,
                defaults={"site_id": site_id, "verified": bool(verified and verified[0])},
            )
    return sent.ticket


def start_visit() -> RequestFormVisit:
    """A widget visit, measured as the portal's request form is (kb's deflection)."""
    return RequestFormVisit.objects.create(customer=None)


def searched(visit_id: str, count: int) -> None:
    suggestions_shown(None, visit_id, count)


def nudge(ticket_ids: list[int]) -> None:
    """Wake the streams following these tickets (after commit). Only a wake-up: the
    streams read the database, and re-read it every few seconds without Redis."""
    try:
        with writer().pipeline(transaction=False) as pipe:
            for ticket_id in ticket_ids:
                pipe.publish(channel_name(ticket_id), "1")
            pipe.execute()
    except UNREACHABLE:
        unavailable("widget streams wait for their next re-read")


@transaction.atomic
def save_site(site: WidgetSite, *, created: bool) -> WidgetSite:
    site.save()
    record(
        AuditKind.SETTINGS,
        action="widget site created" if created else "widget site updated",
        target=site,
        data={
            "name": site.name,
            "origins": site.allowed_origins,
            "mailbox": site.mailbox_id,
            "enabled": site.enabled,
        },
    )
    return site


@transaction.atomic
def rotate_secret(site: WidgetSite) -> WidgetSite:
    """A new secret: the old one stops verifying identities at once."""
    site.secret = new_secret()
    site.save(update_fields=["secret"])
    record(AuditKind.SETTINGS, action="widget secret rotated", target=site)
    return site


async def afollowed_ticket(token: str) -> Ticket:
    return await sync_to_async(followed_ticket)(token)
