"""What a rule sees: the ticket's facts at one moment and the customer messages that
arrived with the change."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.db.models import Count

from tickets.models import (
    Direction,
    Kind,
    Message,
    Ticket,
)

_local = threading.local()


@dataclass(frozen=True)
class TicketFacts:
    """The ticket columns conditions read, from the claim statement or from a loaded Ticket.

    Evaluating 50 rules needs no ORM object: the full Ticket is loaded only when a rule
    matches and its actions run.
    """

    number: int
    subject: str
    mailbox_id: int
    customer_id: int
    customer_email: str
    organization_id: int | None
    tags: list[str]
    priority: str
    kind: str
    status: str
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketFacts:
        return cls(
            ticket.pk,
            ticket.subject,
            ticket.mailbox_id,
            ticket.customer_id,
            ticket.customer.email,
            ticket.customer.organization_id,
            list(ticket.tags),
            ticket.priority,
            ticket.kind,
            ticket.status,
            ticket.updated_at,
        )

    @cached_property
    def subject_lower(self) -> str:
        return self.subject.lower()


@dataclass
class Context:
    """One ticket at one moment, plus the customer messages that arrived with the change."""

    ticket: TicketFacts
    trigger: str
    now: datetime
    new_message_ids: list[int] = field(default_factory=list)
    # Support tickets of the customer in the last N days, by N (filled by the first read,
    # or for a whole batch at once by run_rules_many).
    recent_support: dict[int, int] = field(default_factory=dict)

    def _new_inbound(self, column: str) -> list[Any]:
        """One column of the customer messages that arrived with the change."""
        if not self.new_message_ids:
            return []
        return list(
            Message.objects.filter(
                pk__in=self.new_message_ids, direction=Direction.INBOUND
            ).values_list(column, flat=True)
        )

    @cached_property
    def new_inbound_texts(self) -> list[str]:
        return self._new_inbound("body_text")

    @cached_property
    def new_inbound_headers(self) -> list[dict[str, str]]:
        return self._new_inbound("headers")

    @cached_property
    def new_inbound_texts_lower(self) -> list[str]:
        return [text.lower() for text in self.new_inbound_texts]

    @cached_property
    def new_inbound_sentiments(self) -> list[float]:
        return [message_sentiment(text) for text in self.new_inbound_texts]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def needle(value: Any) -> str:
    return str(value).strip().lower()


_QUOTED = re.compile(r"^\s*>.*$", re.MULTILINE)


def message_sentiment(text: str) -> float:
    """VADER compound score (-1 very negative .. 1 very positive) of the customer's own words."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = getattr(_local, "vader", None)
    if analyzer is None:
        analyzer = _local.vader = SentimentIntensityAnalyzer()
    own_words = _QUOTED.sub("", text)[:5000]
    return float(analyzer.polarity_scores(own_words)["compound"])


def recent_support_tickets(ctx: Context, days: int) -> int:
    if days not in ctx.recent_support:
        ctx.recent_support[days] = recent_support_counts([ctx.ticket.customer_id], days, ctx.now)[
            ctx.ticket.customer_id
        ]
    return ctx.recent_support[days]


def recent_support_counts(customer_ids: list[int], days: int, now: datetime) -> dict[int, int]:
    """Support tickets per customer created in the `days` before `now`, in one query."""
    counts = dict.fromkeys(customer_ids, 0)
    rows = (
        Ticket.objects.filter(
            customer_id__in=customer_ids,
            kind=Kind.SUPPORT,
            created_at__gte=now - timedelta(days=days),
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    counts.update(rows)
    return counts
