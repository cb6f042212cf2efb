"""Surveys: CSAT (and CES) when a ticket is solved, NPS on a schedule, and the answers.

Links carry a signed, timestamped token (django.core.signing) naming the survey and the
customer invited, so no sign-in is needed and nobody can answer for another ticket; they
expire after SURVEY_LINK_MAX_AGE_DAYS. A link's GET only shows the page with the clicked
score chosen: mail scanners follow every link, so only the customer's POST records an
answer.

Only the customer answers, once:
- The token never sits in a body that others read. The CSAT mail is stored on the ticket
  (agents and, in the portal, colleagues sharing tickets read it) with placeholder links
  (`/survey/from-your-email/`, a page that says so); the customer's own links are put in
  when the mail is built for sending (`customer_links`, on tickets.hooks.outgoing_body),
  so only the e-mail the customer receives carries them.
- The survey page (metrics/views.py) takes no answer from a signed-in agent, nor from a
  signed-in customer other than the one invited.
- The first answer is kept (`record_answers` refuses a second with AlreadyAnswered). Only
  its author may change it: the browser that sent it holds a signed cookie naming that
  answer, and `change=True` is passed only for it, until the link expires.

How the mails leave: a CSAT mail belongs to a ticket's conversation, so it is stored as an
automatic outbound Message through tickets.services.add_message(automatic=True): the mail
worker sends it like any reply (mailbox From, threading headers, retries, delivery state
on the message), agents see it in the conversation, and figures skip it because it is
automatic. NPS is asked of a customer, not about a ticket, so it has no conversation to
join: it is sent directly with Django's mail API from the default mailbox's address, and
is stored nowhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.branding import signature
from helpdesk.postgres import Prepared
from metrics.models import SCORE_RANGES, SurveyInvitation, SurveyKind, SurveyResponse
from tickets import services as ticket_services
from tickets.languages import customer_language
from tickets.models import (
    DONE_STATUSES,
    ActorKind,
    Customer,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Message,
    Ticket,
    TicketEvent,
    User,
)
from tickets.selectors import in_mailboxes, viewer_mailboxes

logger = logging.getLogger(__name__)
_SALT = "metrics.survey"


# The token of the placeholder links a stored survey mail carries (see the module's doc).
PLACEHOLDER = "from-your-email"


class SurveyLinkError(Exception):
    """A link that is forged, damaged or expired; the message is shown to the customer."""


class AlreadyAnswered(Exception):
    """The survey has an answer, and whoever answers now is not known to be its author."""


@dataclass(frozen=True)
class SurveyLink:
    kind: str  # "csat" (with CES for support tickets) or "nps"
    customer: Customer
    ticket: Ticket | None = None
    # An invitation's id; an imported answer names itself ("import:<email>:<at>").
    invitation_id: int | str | None = None

    @property
    def asks_ces(self) -> bool:
        return (
            self.kind == SurveyKind.CSAT
            and self.ticket is not None
            and (self.ticket.kind == Kind.SUPPORT)
        )


def make_token(
    kind: str, customer_id: int, *, ticket_id: int | None = None, invitation_id: int | None = None
) -> str:
    payload: dict[str, Any] = {"k": kind, "c": customer_id}
    if ticket_id is not None:
        payload["t"] = ticket_id
    if invitation_id is not None:
        payload["i"] = invitation_id
    return signing.dumps(payload, salt=_SALT, compress=True)


def survey_url(token: str, score: int | None = None) -> str:
    path = reverse("metrics:survey", args=[token])
    return f"{settings.SITE_URL}{path}" + (f"?score={score}" if score is not None else "")


def customer_links(message: Message, text: str) -> str:
    """The text of a CSAT mail with the invited customer's own links in place of the
    placeholders (tickets.hooks.outgoing_body: called when the mail is built, never
    stored). A fresh token each time: a resend carries a link valid for the full time."""
    placeholder = reverse("metrics:survey", args=[PLACEHOLDER])
    if not message.automatic or placeholder not in text:
        return text
    invitation = SurveyInvitation.objects.filter(
        ticket_id=message.ticket_id, kind=SurveyKind.CSAT
    ).first()
    if invitation is None:
        return text
    token = make_token(SurveyKind.CSAT, invitation.customer_id, ticket_id=message.ticket_id)
    return text.replace(placeholder, reverse("metrics:survey", args=[token]))


def read_token(token: str) -> SurveyLink:
    if token == PLACEHOLDER:
        raise SurveyLinkError(
            _(
                "This is the survey as our team sees it. The customer's own link is only in "
                "the email we sent them: only they can answer."
            )
        )
    max_age = timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise SurveyLinkError(
            _(
                "This survey link has expired. Thank you for wanting to answer: reply to our "
                "last email if there is anything you would like us to know."
            )
        ) from exc
    except signing.BadSignature as exc:
        raise SurveyLinkError(
            _(
                "This survey link is not valid. Please use the link from the email exactly as "
                "it was sent."
            )
        ) from exc
    kind = payload.get("k")
    customer = Customer.objects.filter(pk=payload.get("c")).first()
    if kind not in (SurveyKind.CSAT, SurveyKind.NPS) or customer is None:
        raise SurveyLinkError(_("This survey is no longer available."))
    ticket = None
    if kind == SurveyKind.CSAT:
        ticket = Ticket.objects.filter(pk=payload.get("t"), customer=customer).first()
        if ticket is None:
            raise SurveyLinkError(_("This survey is no longer available."))
    return SurveyLink(kind, customer, ticket, payload.get("i"))


def existing_answers(link: SurveyLink) -> dict[str, SurveyResponse]:
    if link.ticket is not None:
        responses = SurveyResponse.objects.filter(ticket=link.ticket)
    else:
        responses = SurveyResponse.objects.filter(external_key=_nps_key(link))
    return {r.kind: r for r in responses}


def _nps_key(link: SurveyLink) -> str:
    return f"nps-invitation-{link.invitation_id}"


def _answers_locked(link: SurveyLink) -> dict[str, SurveyResponse]:
    """The survey's answers, and a lock that makes two first answers take turns: on the
    ticket for CSAT, on the invitation for NPS (an imported NPS answer has neither, and
    its importer checks and writes in one line's transaction)."""
    if link.ticket is not None:
        Ticket.objects.select_for_update().filter(pk=link.ticket.pk).first()
    elif isinstance(link.invitation_id, int):
        SurveyInvitation.objects.select_for_update().filter(pk=link.invitation_id).first()
    return existing_answers(link)


@transaction.atomic
def record_answers(
    link: SurveyLink,
    scores: dict[str, int],
    comment: str = "",
    *,
    at: datetime | None = None,
    change: bool = False,
) -> list[SurveyResponse]:
    """Store the customer's answers. The first answer to a survey is kept: another one
    raises AlreadyAnswered, unless `change` says it comes from the first one's author
    (the survey page proves that with its cookie; history import replays answers)."""
    at = at or timezone.now()
    if _answers_locked(link) and not change:
        raise AlreadyAnswered
    saved = []
    for kind, score in scores.items():
        values = answer_values(link, kind, score, comment, at)
        if link.ticket is not None:
            response, _ = SurveyResponse.objects.update_or_create(
                ticket=link.ticket, kind=kind, defaults=values
            )
        else:
            response, _ = SurveyResponse.objects.update_or_create(
                external_key=_nps_key(link), defaults={**values, "kind": kind}
            )
        saved.append(response)
    if link.ticket is not None:
        ticket_services.save_events(
            [answers_event(link, {r.kind: r.score for r in saved}, comment, at)]
        )
    return saved


def answer_values(
    link: SurveyLink, kind: str, score: int, comment: str, at: datetime
) -> dict[str, Any]:
    """The fields of one answer (besides its ticket and kind); a score out of range raises."""
    low, high = SCORE_RANGES[SurveyKind(kind)]
    if not low <= score <= high:
        raise ValueError(f"{kind} score {score} is outside {low}-{high}")
    return {
        "score": score,
        # The comment belongs to the survey's main question (CSAT or NPS).
        "comment": comment if kind != SurveyKind.CES else "",
        "customer": link.customer,
        "submitted_at": at,
        "assignee_id": link.ticket.assignee_id if link.ticket else None,
    }


def answers_event(
    link: SurveyLink, scores: dict[str, int], comment: str, at: datetime
) -> TicketEvent:
    """The ticket event of a survey answered (not saved yet): the customer's own change."""
    assert link.ticket is not None
    return ticket_services.new_event(
        link.ticket,
        EventKind.SURVEY,
        actor=ticket_services.Actor(ActorKind.CUSTOMER, link.customer.user),
        at=at,
        after=scores,
        data={"comment": bool(comment)},
    )


def offer_csat(ticket_id: int) -> bool:
    """Mail the CSAT survey for a solved ticket, once per ticket; True if one was queued."""
    # An internal ticket (a success follow-up nobody wrote to the customer on) is not
    # theirs to rate: Ticket.objects.shown_to_customers.
    ticket = (
        Ticket.objects.shown_to_customers()
        .select_related("customer", "mailbox")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or ticket.status not in DONE_STATUSES or not ticket.customer.email:
        return False
    # Only a solve that just happened: imported history must not mail old customers.
    if ticket.solved_at is None or ticket.solved_at < timezone.now() - CSAT_RECENT:
        return False
    if SurveyInvitation.objects.filter(ticket=ticket, kind=SurveyKind.CSAT).exists():
        return False
    try:
        with transaction.atomic():
            SurveyInvitation.objects.create(
                kind=SurveyKind.CSAT, customer=ticket.customer, ticket=ticket
            )
            # Placeholder links: the stored body is read by agents and in the portal; the
            # customer's own links are put in when the mail is sent (customer_links).
            context = {
                "ticket": ticket,
                "customer": ticket.customer,
                "scores": [(n, CSAT_LABELS[n], survey_url(PLACEHOLDER, n)) for n in range(1, 6)],
                "survey_url": survey_url(PLACEHOLDER),
                "signature": signature(ticket.mailbox.signature),
            }
            # In the customer's language (tickets.languages.customer_language).
            with translation.override(customer_language(ticket.customer)):
                subject = render_to_string("metrics/email/csat-subject.txt", context).strip()
                body_text = render_to_string("metrics/email/csat-body.txt", context)
                body_html = render_to_string("metrics/email/csat-body.html", context)
            ticket_services.add_message(
                ticket,
                direction=Direction.OUTBOUND,
                automatic=True,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                from_address=ticket.mailbox.address,
                from_name=ticket.mailbox.from_name or ticket.mailbox.name,
                to=[ticket.customer.email],
            )
            SurveyInvitation.objects.filter(ticket=ticket, kind=SurveyKind.CSAT).update(
                sent_at=timezone.now()
            )
    except IntegrityError:
        return False  # already offered for this ticket
    return True


CSAT_RECENT = timedelta(days=2)
CSAT_LABELS = {
    1: gettext_lazy("Very unsatisfied"),
    2: gettext_lazy("Unsatisfied"),
    3: gettext_lazy("Neutral"),
    4: gettext_lazy("Satisfied"),
    5: gettext_lazy("Very satisfied"),
}


def nps_candidates(now: datetime, limit: int) -> list[Customer]:
    """Customers active in the throttle period who were not invited during it."""
    since = now - timedelta(days=settings.NPS_THROTTLE_DAYS)
    recent_invitation = SurveyInvitation.objects.filter(
        customer=OuterRef("pk"), kind=SurveyKind.NPS, created_at__gte=since
    )
    recent_ticket = Ticket.objects.shown_to_customers().filter(
        customer=OuterRef("pk"), created_at__gte=since
    )
    return list(
        Customer.objects.filter(Exists(recent_ticket))
        .exclude(Exists(recent_invitation))
        .exclude(email="")
        .order_by("pk")[:limit]
    )


def send_nps_invitations(now: datetime | None = None) -> int:
    """The scheduled NPS run: invite each eligible customer once; returns how many."""
    now = now or timezone.now()
    mailbox = (
        Mailbox.objects.filter(is_default=True).first()
        or Mailbox.objects.filter(is_active=True).first()
    )
    sent = 0
    for customer in nps_candidates(now, settings.NPS_BATCH_SIZE):
        invitation = SurveyInvitation.objects.create(
            kind=SurveyKind.NPS, customer=customer, created_at=now
        )
        try:
            _mail_nps(invitation, mailbox)
        except OSError:
            # SMTP down: drop the claim so the next run asks this customer again.
            invitation.delete()
            logger.exception("NPS invitation to customer %s not sent", customer.pk)
            continue
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at"])
        sent += 1
    return sent


def _mail_nps(invitation: SurveyInvitation, mailbox: Mailbox | None) -> None:
    customer = invitation.customer
    token = make_token(SurveyKind.NPS, customer.pk, invitation_id=invitation.pk)
    context = {
        "customer": customer,
        "company": (mailbox.from_name or mailbox.name) if mailbox else gettext_lazy("us"),
        "scores": [(n, survey_url(token, n)) for n in range(11)],
        "signature": signature(mailbox.signature if mailbox else ""),
    }
    if mailbox is not None:
        sender = f"{mailbox.from_name or mailbox.name} <{mailbox.address}>"
    else:
        sender = settings.DEFAULT_FROM_EMAIL
    with translation.override(customer_language(customer)):
        subject = render_to_string("metrics/email/nps-subject.txt", context).strip()
        body = render_to_string("metrics/email/nps-body.txt", context)
        html = render_to_string("metrics/email/nps-body.html", context)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender,
        to=[customer.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    mail.attach_alternative(html, "text/html")
    mail.send()


def ticket_responses(ticket: Ticket) -> list[SurveyResponse]:
    return list(ticket.survey_responses.order_by("kind"))


def _customer_answers(customer_id: int, viewer: User) -> QuerySet[SurveyResponse]:
    """The customer's answers that `viewer` may see, newest first: CSAT and CES of the
    tickets the viewer may open (Ticket.objects.visible_to: a score, a comment and a
    ticket number of another team's mailbox are that team's), and NPS, asked of the
    customer about us as a whole rather than about any mailbox's ticket."""
    visible = Ticket.objects.visible_to(viewer).filter(customer=customer_id).values("pk")
    return (
        SurveyResponse.objects.filter(customer=customer_id)
        .filter(Q(ticket__isnull=True) | Q(ticket__in=visible))
        .order_by("-submitted_at")
    )


def customer_responses(customer: Customer, viewer: User, limit: int = 5) -> list[SurveyResponse]:
    return list(_customer_answers(customer.pk, viewer).select_related("ticket")[:limit])


@dataclass
class TicketPagePanels:
    ticket: list[SurveyResponse]
    customer: list[SurveyResponse]


def _page_panels(ticket: int, customer: int, mailboxes: Any = None) -> QuerySet[SurveyResponse]:
    """ticket_page_responses' statement, for an agent who sees every ticket (`mailboxes`
    None) or the tickets of `mailboxes` (the rule of visible_to, as a value)."""
    own = SurveyResponse.objects.filter(ticket_id=ticket).annotate(panel=Value(1)).order_by("kind")
    tickets = Ticket.objects.all() if mailboxes is None else in_mailboxes(Ticket.objects, mailboxes)
    visible = tickets.filter(customer=customer).values("pk")
    latest = (
        SurveyResponse.objects.filter(customer=customer)
        .filter(Q(ticket__isnull=True) | Q(ticket__in=visible))
        .order_by("-submitted_at")
        .annotate(panel=Value(2))[:PANEL_LIMIT]
    )
    return own.union(latest, all=True)


PANEL_LIMIT = 5
# Compiled once per process (helpdesk.postgres.Prepared): building this UNION of two
# querysets cost more CPU than any other part of the ticket page's reads.
_PANELS = Prepared(_page_panels, ticket=-7_060_606, customer=-7_070_707)
_PANELS_IN = Prepared(_page_panels, ticket=-7_060_606, customer=-7_070_707, mailboxes=[-7_080_808])


def ticket_page_responses(ticket: Ticket, viewer: User) -> TicketPagePanels:
    """Both survey panels of the ticket page, `ticket_responses` and `customer_responses`
    of its customer as `viewer` may see them, in one query (UNION ALL), read once per
    ticket object (one viewer per request)."""
    held = getattr(ticket, "_survey_panels", None)
    if held is not None:
        return held
    rows: list[Any]
    if viewer.is_authenticated and viewer.is_active and viewer.is_agent:
        mailboxes = viewer_mailboxes(viewer)
        if mailboxes is None:
            rows = _PANELS.rows(ticket=ticket.pk, customer=ticket.customer_id)
        else:
            rows = _PANELS_IN.rows(
                ticket=ticket.pk, customer=ticket.customer_id, mailboxes=mailboxes
            )
    else:
        own = ticket.survey_responses.annotate(panel=Value(1)).order_by("kind")
        latest = _customer_answers(ticket.customer_id, viewer).annotate(panel=Value(2))
        rows = list(own.union(latest[:PANEL_LIMIT], all=True))
    panels = TicketPagePanels(
        ticket=sorted((r for r in rows if r.panel == 1), key=lambda r: r.kind),
        customer=sorted(
            (r for r in rows if r.panel == 2),
            key=lambda r: r.submitted_at,
            reverse=True,
        ),
    )
    ticket._survey_panels = panels  # type: ignore[attr-defined]
    return panels
