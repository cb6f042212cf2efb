"""Account health: a score from 0 to 100 that is the sum of explainable factors.

The definitions are in docs/metrics.md ("Account health"). `facts_of` reads what one
account's score depends on (five queries), `score_of` turns those facts into factors
and the score (pure, so tests fix it exactly), and `recompute` stores the result with
the day's snapshot and hands a fall to the rules (tickets/workflow/automation/health.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from metrics.models import SurveyKind, SurveyResponse, TicketFigures
from service.models import AccountHealth, HealthSnapshot
from tickets.models import OPEN_STATUSES, Direction, Kind, Message, Ticket
from tickets.workflow.automation import message_sentiment
from tickets.workflow.automation.health import Account, health_fell

BASE = 80
RECENT = timedelta(days=30)
# The baseline: the six 30-day periods before the recent one, on average.
BASELINE_PERIODS = 6
SOLVED_WINDOW = timedelta(days=90)
SURVEY_WINDOW = timedelta(days=365)
SENTIMENT_MESSAGES = 20
DAY = 86400.0


@dataclass(frozen=True)
class Facts:
    """What one account's health is computed from, as of `now`."""

    now: datetime
    recent_tickets: int = 0
    baseline_tickets: int = 0
    solved: int = 0
    reopened: int = 0
    oldest_open_at: datetime | None = None
    sentiments: tuple[float, ...] = ()
    latest_csat: int | None = None
    latest_nps: int | None = None
    last_contact_at: datetime | None = None


@dataclass(frozen=True)
class Factor:
    name: str
    label: str
    points: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "points": self.points,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Health:
    score: int
    factors: list[Factor] = field(default_factory=list)


def _points(value: float) -> float:
    # One decimal, half away from zero, and never "-0.0".
    rounded = math.copysign(math.floor(abs(value) * 10 + 0.5) / 10, value)
    return rounded + 0.0 if rounded else 0.0


def _volume(f: Facts) -> Factor:
    baseline = f.baseline_tickets / BASELINE_PERIODS
    excess = f.recent_tickets - max(baseline, 1.0)
    points = -min(20.0, 5 * excess) if excess > 0 else 0.0
    detail = (
        f"{f.recent_tickets} support tickets in the last 30 days; "
        f"usually {baseline:.1f} per 30 days"
    )
    return Factor("ticket_volume", "Ticket volume", _points(points), detail)


def _reopens(f: Facts) -> Factor:
    if not f.solved:
        return Factor("reopen_rate", "Reopen rate", 0.0, "No ticket solved in the last 90 days")
    rate = f.reopened / f.solved
    detail = f"{f.reopened} of {f.solved} tickets solved in the last 90 days were reopened"
    return Factor("reopen_rate", "Reopen rate", _points(-20 * rate), detail)


def _unresolved(f: Facts) -> Factor:
    if f.oldest_open_at is None:
        return Factor("unresolved_age", "Unresolved tickets", 0.0, "No open support ticket")
    days = (f.now - f.oldest_open_at).total_seconds() / DAY
    points = -min(20.0, max(0.0, days - 7))
    detail = f"The oldest open support ticket is {math.floor(days)} days old"
    return Factor("unresolved_age", "Unresolved tickets", _points(points), detail)


def _sentiment(f: Facts) -> Factor:
    if not f.sentiments:
        return Factor("sentiment", "Sentiment", 0.0, "No message from them in the last 30 days")
    mean = sum(f.sentiments) / len(f.sentiments)
    points = 15 * mean if mean < 0 else 5 * mean
    detail = f"Mean tone {mean:+.2f} (-1 to +1) over their last {len(f.sentiments)} messages"
    return Factor("sentiment", "Sentiment", _points(points), detail)


def _csat(f: Facts) -> Factor:
    if f.latest_csat is None:
        return Factor("csat", "Latest CSAT", 0.0, "No CSAT answer in the last year")
    points = (f.latest_csat - 3) * 5
    return Factor("csat", "Latest CSAT", _points(points), f"Scored {f.latest_csat} of 5")


def _nps(f: Facts) -> Factor:
    if f.latest_nps is None:
        return Factor("nps", "Latest NPS", 0.0, "No NPS answer in the last year")
    score = f.latest_nps
    points, what = (
        (5, "promoter") if score >= 9 else (0, "passive") if score >= 7 else (-15, "detractor")
    )
    return Factor("nps", "Latest NPS", float(points), f"Scored {score} of 10 ({what})")


def _last_contact(f: Facts) -> Factor:
    if f.last_contact_at is None:
        return Factor("last_contact", "Last contact", 0.0, "Never in touch yet")
    days = (f.now - f.last_contact_at).total_seconds() / DAY
    points = -min(15.0, max(0.0, (days - 30) / 4))
    return Factor(
        "last_contact", "Last contact", _points(points), f"Last message {math.floor(days)} days ago"
    )


FACTORS = (_volume, _reopens, _unresolved, _sentiment, _csat, _nps, _last_contact)


def score_of(facts: Facts) -> Health:
    """The factors of `facts` and the score: BASE plus their points, rounded half up and
    kept within 0..100."""
    factors = [factor(facts) for factor in FACTORS]
    total = Decimal(BASE) + sum((Decimal(str(f.points)) for f in factors), Decimal(0))
    score = int(total.to_integral_value(rounding="ROUND_HALF_UP"))
    return Health(min(100, max(0, score)), factors)


def _customers(account: Account, prefix: str = "") -> Q:
    if account.kind == "customer":
        return Q(**{f"{prefix}customer_id": account.pk})
    return Q(**{f"{prefix}customer__organization_id": account.pk})


def facts_of(account: Account, now: datetime) -> Facts:
    """One account's facts: tickets, figures, messages and surveys, one query each."""
    recent = now - RECENT
    baseline_start = recent - RECENT * BASELINE_PERIODS
    support = Ticket.objects.filter(_customers(account), kind=Kind.SUPPORT, merged_into=None)
    counts = support.aggregate(
        recent=Count("pk", filter=Q(created_at__gte=recent, created_at__lt=now)),
        baseline=Count("pk", filter=Q(created_at__gte=baseline_start, created_at__lt=recent)),
        oldest=Min("created_at", filter=Q(status__in=OPEN_STATUSES, created_at__lt=now)),
    )
    last_contact = Ticket.objects.filter(_customers(account)).aggregate(
        last=Max("last_message_at", filter=Q(last_message_at__lt=now))
    )["last"]
    solved = TicketFigures.objects.filter(
        _customers(account, "ticket__"),
        kind=Kind.SUPPORT,
        final_solve_at__gte=now - SOLVED_WINDOW,
        final_solve_at__lt=now,
    ).aggregate(solved=Count("pk"), reopened=Count("pk", filter=Q(reopens__gt=0)))
    texts = (
        Message.objects.filter(
            _customers(account, "ticket__"),
            direction=Direction.INBOUND,
            created_at__gte=recent,
            created_at__lt=now,
        )
        .order_by("-created_at", "-pk")
        .values_list("body_text", flat=True)[:SENTIMENT_MESSAGES]
    )
    latest = {
        kind: score
        for kind, score in SurveyResponse.objects.filter(
            _customers(account),
            kind__in=[SurveyKind.CSAT, SurveyKind.NPS],
            submitted_at__gte=now - SURVEY_WINDOW,
            submitted_at__lt=now,
        )
        .order_by("kind", "-submitted_at", "-pk")
        .distinct("kind")
        .values_list("kind", "score")
    }
    return Facts(
        now=now,
        recent_tickets=counts["recent"],
        baseline_tickets=counts["baseline"],
        solved=solved["solved"],
        reopened=solved["reopened"],
        oldest_open_at=counts["oldest"],
        sentiments=tuple(message_sentiment(t) for t in texts if t.strip()),
        latest_csat=latest.get(SurveyKind.CSAT),
        latest_nps=latest.get(SurveyKind.NPS),
        last_contact_at=last_contact,
    )


def _account_columns(account: Account) -> dict[str, int]:
    return {"customer_id" if account.kind == "customer" else "organization_id": account.pk}


def recompute(account: Account, *, now: datetime | None = None) -> AccountHealth:
    """Compute and store one account's health and today's snapshot; a score that fell
    goes to the rules after commit of the new row."""
    now = now or timezone.now()
    health = score_of(facts_of(account, now))
    factors = [f.as_dict() for f in health.factors]
    columns = _account_columns(account)
    with transaction.atomic():
        row = AccountHealth.objects.select_for_update().filter(**columns).first()
        before = row.score if row is not None else None
        if row is None:
            row = AccountHealth(**columns)
        row.score, row.factors, row.computed_at = health.score, factors, now
        row.save()
        HealthSnapshot.objects.update_or_create(
            **columns,
            day=timezone.localdate(now),
            defaults={"score": health.score, "factors": factors},
        )
        reasons = [f"{f.label}: {f.detail} ({f.points:+g})" for f in health.factors if f.points < 0]
        transaction.on_commit(lambda: health_fell(account, before, health.score, reasons))
    return row


def trend(account: Account, days: int = 90) -> list[HealthSnapshot]:
    """The account's daily scores over the last `days`, oldest first."""
    since = timezone.localdate() - timedelta(days=days)
    return list(
        HealthSnapshot.objects.filter(**_account_columns(account), day__gte=since).order_by("day")
    )
