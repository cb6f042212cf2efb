"""Automatic answers to customers (acknowledgements, rules' replies), held back in a loop.

An auto-responder that answers without saying so (no Auto-Submitted, no In-Reply-To, a
new subject each time) turns each automatic answer of ours into one more round of a mail
loop. Two things stop it within a few rounds, whatever the other side's headers say:
- its messages look alike: a new ticket's first message much like another the same
  customer sent within the window is taken for an auto-responder's, and not answered;
- a cap: at most MAIL_AUTO_REPLIES_PER_ADDRESS automatic answers to one customer and
  MAIL_AUTO_REPLIES_PER_TICKET on one ticket within the window (an hour).
The customer's mail still lands (a ticket, a message); only our automatic answer stays
unsent. Counted from the stored messages (the database is the record, Redis may be
down), for a batch of mail in two queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from tickets.models import Direction, Message, Ticket

AUTO_REPLY_WINDOW = timedelta(hours=1)
# Bodies this alike (difflib's ratio, over their first characters) are one sender's
# automatic text with a detail changed (a date, a reference number).
ALIKE = 0.9
COMPARED_CHARS = 2000
# Earlier messages of one customer compared with a new one.
COMPARED_MESSAGES = 10


def _text(body: str) -> str:
    return " ".join(body[:COMPARED_CHARS].split()).lower()


def _alike(a: str, b: str) -> bool:
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= ALIKE and matcher.ratio() >= ALIKE


@dataclass
class AutoReplies:
    """What decides whether customers' new messages may be answered automatically: the
    automatic answers each was sent in the window and the messages each sent in it, read
    once for a batch (`load`) and kept up to date by `allow`."""

    sent: Counter[int]
    # customer id -> (message id, text) of the customer's messages in the window.
    written: dict[int, list[tuple[int | None, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, customer_ids: Iterable[int], *, now: datetime | None = None) -> AutoReplies:
        ids = set(customer_ids)
        since = (now or timezone.now()) - AUTO_REPLY_WINDOW
        if not ids:
            return cls(Counter())
        in_window = Message.objects.filter(ticket__customer_id__in=ids, created_at__gte=since)
        sent = Counter(
            dict(
                in_window.filter(direction=Direction.OUTBOUND, automatic=True)
                .values_list("ticket__customer_id")
                .annotate(count=Count("id"))
                .values_list("ticket__customer_id", "count")
            )
        )
        written: dict[int, list[tuple[int | None, str]]] = {}
        rows = (
            in_window.filter(direction=Direction.INBOUND)
            .order_by("-created_at", "-id")
            .values_list("pk", "ticket__customer_id", Substr("body_text", 1, COMPARED_CHARS))
        )[: COMPARED_MESSAGES * len(ids)]
        for pk, customer_id, body in rows:
            written.setdefault(customer_id, []).append((pk, _text(body)))
        return cls(sent, written)

    def allow(self, message: Message) -> bool:
        """Whether the customer's `message` (the first of a new ticket) may be answered
        automatically; an answer it allows is counted."""
        customer_id = message.ticket.customer_id
        text = _text(message.body_text)
        earlier = [t for pk, t in self.written.get(customer_id, []) if pk != message.pk]
        self.written.setdefault(customer_id, []).insert(0, (message.pk, text))
        if text and any(_alike(text, other) for other in earlier[:COMPARED_MESSAGES]):
            return False
        if self.sent[customer_id] >= settings.MAIL_AUTO_REPLIES_PER_ADDRESS:
            return False
        self.sent[customer_id] += 1
        return True


def automatic_reply_allowed(ticket: Ticket) -> bool:
    """Whether a rule may send one more automatic answer on `ticket`: under the caps of
    its ticket and of its customer within the window."""
    since = timezone.now() - AUTO_REPLY_WINDOW
    on_ticket = Message.objects.filter(
        ticket=ticket, direction=Direction.OUTBOUND, automatic=True, created_at__gte=since
    ).count()
    if on_ticket >= settings.MAIL_AUTO_REPLIES_PER_TICKET:
        return False
    return AutoReplies.load([ticket.customer_id]).sent[ticket.customer_id] < (
        settings.MAIL_AUTO_REPLIES_PER_ADDRESS
    )
