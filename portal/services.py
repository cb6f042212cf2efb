"""What customers do in the portal: sign in, file requests, reply, mark solved.

Tickets and messages are written only through tickets.services, so a portal reply lands
in the same conversation, with the same events, as an e-mail reply.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import authenticate
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from helpdesk.celery import enqueue_on_commit
from helpdesk.ratelimit import Rate
from helpdesk.signin import identity
from kb.models import Article, RequestFormVisit, SearchSource
from kb.search import search_articles
from kb.services import log_search
from portal.models import RequestForm, SignInLink
from portal.request_forms import routed_mailbox
from portal.sign_in_mail import SIGN_IN_LINK_LIFETIME, send_sign_in_email
from portal.tasks import send_sign_in_link
from tickets import services as ticket_services
from tickets.models import (
    DONE_STATUSES,
    ActorKind,
    Channel,
    Customer,
    Mailbox,
    Role,
    Status,
    Ticket,
    User,
)
from tickets.services import Actor, CustomerReply

# Sign-in links per hour: for one address asked from one client address (enough for a
# lost mail or two), and from one client address in all (too few to probe many). An
# address asked for from many places at once gets at most LINKS_PER_ADDRESS mails per
# link lifetime: past that a request is answered as usual but mails nothing. The newest
# link sent in that window still works, so nobody elsewhere can keep the customer out.
LINKS_PER_PAIR = 5
LINKS_PER_IP = 30
LINKS_PER_ADDRESS = 20
HOUR = 3600


class SignInMailUnavailable(Exception):
    """The sign-in link could be neither queued (broker down) nor sent from here (the mail
    server too): the customer is asked to try again."""


class NoMailbox(Exception):
    """No active mailbox to file portal requests into (an admin must create one)."""


def customer_actor(user: User) -> Actor:
    return Actor(ActorKind.CUSTOMER, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_sign_in_link(email: str, *, client_ip: str) -> None:
    """E-mail a one-time sign-in link to `email` if it belongs to a customer.

    The caller shows the same answer whether or not a link was sent, and the work done
    here before sending (the mail goes out from a worker) is the same either way.
    Raises RateLimited (too many from this client address), or SignInMailUnavailable
    (see `_mail_now`).
    """
    email = identity(email)
    Rate("portal-link-ip", LINKS_PER_IP, HOUR).enforce(client_ip)
    Rate("portal-link-pair", LINKS_PER_PAIR, HOUR).enforce(f"{email} {client_ip}")
    lifetime = int(SIGN_IN_LINK_LIFETIME.total_seconds())
    if Rate("portal-link-address", LINKS_PER_ADDRESS, lifetime).hit(email):
        return
    customer = Customer.objects.select_related("user").filter(email=email).first()
    if customer is None or not _may_use_portal(customer):
        return
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInLink.objects.create(
        customer=customer,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + SIGN_IN_LINK_LIFETIME,
    )
    enqueue_on_commit(
        send_sign_in_link, customer.pk, token, otherwise=lambda: _mail_now(customer, token)
    )


def _mail_now(customer: Customer, token: str) -> None:
    """With the broker down, the link is mailed from the request: the customer is waiting
    for it, and nothing but that mail holds the token (the database keeps its hash). If
    the mail server fails too, the customer is told to try again. Only an address with a
    portal account gets that answer, but only while both the broker and the mail server
    are down, which no one asking can bring about."""
    try:
        send_sign_in_email(customer, token)
    except OSError as exc:  # smtplib's errors are OSErrors, as are refused connections
        raise SignInMailUnavailable from exc


def _may_use_portal(customer: Customer) -> bool:
    if customer.user is not None:
        return customer.user.is_active and customer.user.role == Role.CUSTOMER
    # A staff account with the same address signs in on the agent side, never here.
    return not User.objects.filter(email__iexact=customer.email).exists()


def valid_sign_in_link(token: str) -> SignInLink | None:
    return (
        SignInLink.objects.select_related("customer")
        .filter(token_hash=_token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def redeem_sign_in_link(token: str) -> User | None:
    """The customer's portal user if the link is valid; the link is spent either way.

    The conditional UPDATE claims the link, so two clicks racing each other sign in once.
    """
    link = valid_sign_in_link(token)
    if link is None:
        return None
    now = timezone.now()
    claimed = SignInLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        return None
    customer = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=link.customer_id)
    )
    if not _may_use_portal(customer):
        return None
    return portal_user_for(customer)


def portal_user_for(customer: Customer) -> User:
    """The customer's portal account, created on first sign-in (no password until set)."""
    if customer.user is not None:
        return customer.user
    user = User(
        username=customer.email,
        email=customer.email,
        role=Role.CUSTOMER,
        first_name=(customer.name.split(" ", 1)[0] if customer.name else "")[:150],
        last_name=(customer.name.split(" ", 1)[1] if " " in customer.name else "")[:150],
    )
    user.set_unusable_password()
    user.save()
    customer.user = user
    customer.save(update_fields=["user"])
    return user


def authenticate_customer(request: HttpRequest, email: str, password: str) -> User | None:
    """A customer's user for a correct address and password, through Django's
    authenticate: the same identity and the same failure count as staff sign-in
    (helpdesk/signin.py), so a locked-out pair is refused here too (the caller asks
    `signin.is_refused`). Staff never sign in here."""
    user = authenticate(request, username=email, password=password)
    if user is None or user.role != Role.CUSTOMER:
        return None
    return user


def default_mailbox() -> Mailbox:
    mailbox = Mailbox.objects.filter(is_active=True).order_by("-is_default", "pk").first()
    if mailbox is None:
        raise NoMailbox
    return mailbox


def start_request_form(customer: Customer, visit_id: str | None) -> RequestFormVisit:
    """The visit this form belongs to: the open one from the session, or a new one."""
    visit_pk = parse_visit_id(visit_id) if visit_id else None
    if visit_pk is not None:
        visit = RequestFormVisit.objects.filter(
            pk=visit_pk, customer=customer, ticket__isnull=True
        ).first()
        if visit is not None:
            return visit
    return RequestFormVisit.objects.create(customer=customer)


def parse_visit_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def suggestions_shown(customer: Customer | None, visit_id: str, count: int) -> None:
    visit_pk = parse_visit_id(visit_id)
    if visit_pk is None:
        return
    RequestFormVisit.objects.filter(pk=visit_pk, customer=customer).update(
        suggestions_shown=F("suggestions_shown") + count
    )


def suggestion_opened(customer: Customer | None, visit_id: str, article: Article) -> None:
    """The customer opened a suggested article; without a filing later, a deflection."""
    visit_pk = parse_visit_id(visit_id)
    visit = (
        None
        if visit_pk is None
        else RequestFormVisit.objects.filter(pk=visit_pk, customer=customer).first()
    )
    if visit is None:
        return
    visit.suggestions_opened += 1
    visit.first_opened_at = visit.first_opened_at or timezone.now()
    visit.last_opened_article = article
    visit.save(update_fields=["suggestions_opened", "first_opened_at", "last_opened_article"])


@transaction.atomic
def file_request(
    user: User,
    customer: Customer,
    *,
    subject: str,
    description: str,
    files: Sequence[UploadedFile] = (),
    visit_id: str | None = None,
    request_form: RequestForm | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a ticket from the request form, with its attachments, and close the visit.
    Through one of the admins' forms (`request_form`), the ticket has that form's kind,
    team and mailbox and the `fields` the customer filled in: only the form's own, its
    required ones filled (FieldErrors by key, opening nothing, otherwise)."""
    values = dict(fields or {})
    routing: dict[str, Any] = {}
    if request_form is not None:
        errors = {
            key: "This form does not ask for it."
            for key in values
            if key not in request_form.fields
        }
        errors |= {
            key: "Please fill this in."
            for key in request_form.required
            if ticket_services.is_empty(values.get(key))
        }
        if errors:
            raise ticket_services.FieldErrors(errors)
        mailbox = routed_mailbox(request_form)
        if mailbox is None:
            raise NoMailbox
        routing = {"mailbox": mailbox, "kind": request_form.kind, "team": request_form.team}
    elif values:
        raise ticket_services.FieldErrors({key: "Not asked for." for key in values})
    ticket = ticket_services.create_ticket(
        **(routing or {"mailbox": default_mailbox()}),
        customer=customer,
        subject=subject,
        body_text=description,
        channel=Channel.PORTAL,
        actor=customer_actor(user),
        fields=values,
    )
    if files:
        ticket_services.attach_files(ticket.messages.get(), files)
    now = timezone.now()
    visit_pk = parse_visit_id(visit_id) if visit_id else None
    if visit_pk is not None:
        RequestFormVisit.objects.filter(pk=visit_pk, customer=customer, ticket__isnull=True).update(
            ticket=ticket, filed_at=now
        )
    # A filed subject that no article matches is a question the knowledge base lacks.
    matches = search_articles(subject, user=user, limit=1)
    log_search(subject, source=SearchSource.REQUEST_FORM, result_count=len(matches), user=user)
    return ticket


def reply_to_request(
    ticket: Ticket, user: User, customer: Customer, *, body: str, files: Sequence[UploadedFile] = ()
) -> CustomerReply:
    """A customer's reply from the portal: what the same reply by e-mail does (on a closed
    request, a follow-up request opens), told to the agents the same way."""
    return ticket_services.customer_reply(
        ticket,
        actor=customer_actor(user),
        sender=customer.email,
        body_text=body,
        channel=Channel.PORTAL,
        customer=customer,
        author=user,
        attachments=files,
        from_name=customer.name,
    )


def mark_solved(ticket: Ticket, user: User) -> bool:
    """The customer says the problem is solved. False if it already was."""
    if ticket.status in DONE_STATUSES:
        return False
    ticket_services.update_ticket(ticket, actor=customer_actor(user), status=Status.SOLVED)
    return True
