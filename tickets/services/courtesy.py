"""Mail that needs no one: a thanks-only reply to a solved ticket, and bulk mail.

Two calls the desk makes on its own, each written to the ticket's history as a
`courtesy` event (so the ticket page says why, and the counts come from the log), and
each undone in one click (`undo`), which is counted too:

- `thanks`: a customer's reply to a solved ticket that only says thanks ("Thanks!",
  "Great, that worked", "Vielen Dank", "Merci beaucoup", "¡Muchas gracias!") joins the
  conversation but does not reopen the ticket (`tickets.services.inbound`). Undo reopens it.
- `newsletter`: mail sent in bulk (List-Unsubscribe, List-Id, Precedence: bulk/list) is
  tagged `newsletter` by the built-in rule "Newsletters and notifications" (an admin
  can switch it off on the rules page) and so kept out of the Unassigned view
  (tickets.selectors). Undo removes the tag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext

from helpdesk.quoting import split_text
from tickets.models import Direction, EventKind, Message, Status, Ticket, TicketEvent
from tickets.services.changes import update_ticket
from tickets.services.events import Actor, new_event, record_event

THANKS = "thanks"
NEWSLETTER = "newsletter"
UNDONE = "_undone"
NEWSLETTER_TAG = "newsletter"
KINDS = (THANKS, NEWSLETTER)

# Whole words or phrases that thank or confirm, in the languages the desk supports.
_THANKS = re.compile(
    r"\b("
    r"thanks?|thank you|thx|ty|cheers|much appreciated|appreciate it|great|perfect|awesome|"
    r"brilliant|excellent|wonderful|that worked|it worked|works now|working now|all good|"
    r"solved|fixed|"
    r"danke|dankesch[oö]n|vielen dank|besten dank|super|perfekt|prima|toll|hat geklappt|"
    r"klappt|funktioniert( jetzt| wieder)?|"
    r"merci|merci beaucoup|parfait|g[ée]nial|ça marche|ca marche|ça fonctionne|"
    r"gracias|muchas gracias|perfecto|genial|funcion[oó]|ya funciona|excelente"
    r")\b",
    re.I,
)
# Words that turn a thank-you into a new request: a question, a "but", a "still".
_MORE_TO_SAY = re.compile(
    r"\?|\b("
    r"but|still|again|not|no longer|doesn'?t|didn'?t|isn'?t|won'?t|can'?t|cannot|however|"
    r"another|question|issue|problem|error|broken|wrong|"
    r"aber|noch|nicht|kein|wieder|jedoch|frage|problem|fehler|"
    r"mais|toujours|pas|encore|question|probl[eè]me|erreur|"
    r"pero|todav[ií]a|sigue|otra vez|pregunta|problema|error"
    r")\b",
    re.I,
)
_MAX_WORDS = 16


def is_thanks_only(text: str) -> bool:
    """Whether the customer's own words (quoted history and signature left out) only
    thank or confirm: short, at least one thanks phrase, no question, no "but"."""
    own, _ = split_text(text or "")
    own = unicodedata.normalize("NFKC", own).strip()
    if not own or not _THANKS.search(own) or _MORE_TO_SAY.search(own):
        return False
    return len(re.findall(r"\w+", own)) <= _MAX_WORDS


def keeps_solved(ticket: Ticket, message: Message) -> bool:
    """Whether a customer's message leaves a solved ticket solved: it only says thanks
    (an automatic message wakes nothing anyway)."""
    return (
        ticket.status == Status.SOLVED
        and message.direction == Direction.INBOUND
        and not message.automatic
        and is_thanks_only(message.body_text)
    )


def kept_solved_event(
    ticket: Ticket,
    message: Message,
    new_status: str | None,
    *,
    actor: Actor,
    at: datetime | None = None,
) -> TicketEvent | None:
    """The unsaved `thanks` event of a customer message that left its solved ticket
    solved, given the status `status_after_message` gave it (None: it kept it), or None.
    Every door that adds a customer message (add_message, the mail batch) writes it;
    the message's words were read once, by `status_after_message`."""
    kept = (
        new_status is None
        and ticket.status == Status.SOLVED
        and message.direction == Direction.INBOUND
        and not message.automatic
    )
    if not kept:
        return None
    return new_event(
        ticket,
        EventKind.COURTESY,
        actor=actor,
        at=at,
        after=THANKS,
        message=message,
        data={"reason": "The reply only says thanks."},
    )


def bulk_mail_reason(headers: Mapping[str, str]) -> str:
    """Why a message's kept headers say it was sent in bulk (a newsletter, a
    notification), or "". `headers` is Message.headers (names as mail sent them)."""
    found = {str(name).lower(): str(value) for name, value in headers.items()}
    if found.get("list-unsubscribe"):
        return "List-Unsubscribe"
    if found.get("list-id"):
        return "List-Id"
    precedence = found.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    return ""


def record(ticket: Ticket, kind: str, *, actor: Actor, reason: str = "") -> TicketEvent:
    """Write the call `kind` on `ticket`'s history (the caller's transaction)."""
    return record_event(
        ticket, EventKind.COURTESY, actor=actor, after=kind, data={"reason": reason}
    )


def pending_call(events: list[TicketEvent]) -> str:
    """The call on a ticket that is in force (not undone since), from its history in
    order (the ticket page's events, no query), or ""."""
    current = ""
    for event in events:
        if event.kind == EventKind.COURTESY and isinstance(event.after, str):
            current = "" if event.after.endswith(UNDONE) else event.after
    return current


def mark_newsletter(ticket: Ticket, *, actor: Actor) -> None:
    """Tag `ticket` as a newsletter (out of the Unassigned view) and say so in its
    history; the built-in rule "Newsletters and notifications" calls this."""
    with transaction.atomic():
        if NEWSLETTER_TAG not in ticket.tags:
            update_ticket(ticket, actor=actor, tags=[*ticket.tags, NEWSLETTER_TAG])
        record(ticket, NEWSLETTER, actor=actor, reason="Sent in bulk.")


class NothingToUndo(Exception):
    """The ticket has no call in force."""


@transaction.atomic
def undo(ticket: Ticket, *, actor: Actor) -> str:
    """Undo the call in force on `ticket`: reopen a ticket kept solved, or take a
    newsletter back into the queues. Returns the kind undone."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    history = list(ticket.events.filter(kind=EventKind.COURTESY).order_by("at", "id"))
    kind = pending_call(history)
    if not kind:
        raise NothingToUndo(gettext("Nothing to undo on this ticket."))
    if kind == THANKS and ticket.status == Status.SOLVED:
        update_ticket(ticket, actor=actor, status=Status.OPEN)
    elif kind == NEWSLETTER and NEWSLETTER_TAG in ticket.tags:
        update_ticket(ticket, actor=actor, tags=[t for t in ticket.tags if t != NEWSLETTER_TAG])
    record(ticket, kind + UNDONE, actor=actor)
    return kind


@dataclass(frozen=True)
class CourtesyCounts:
    thanks: int
    thanks_undone: int
    newsletters: int
    newsletters_undone: int


def counts(since: datetime) -> CourtesyCounts:
    """How many calls of each kind the desk made since `since`, and how many were undone
    (one query on the partial index event_courtesy)."""
    rows = TicketEvent.objects.filter(kind=EventKind.COURTESY, at__gte=since).aggregate(
        thanks=Count("pk", filter=Q(after=THANKS)),
        thanks_undone=Count("pk", filter=Q(after=THANKS + UNDONE)),
        newsletters=Count("pk", filter=Q(after=NEWSLETTER)),
        newsletters_undone=Count("pk", filter=Q(after=NEWSLETTER + UNDONE)),
    )
    return CourtesyCounts(**rows)
