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
from django.utils.translation import gettext, gettext_noop

from helpdesk import humanize
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


# How a detail's numbers are written: decimals, and a sign before a positive one.
_DECIMALS = {"usual": (1, False), "tone": (2, True)}


def _say(text: str, args: dict[str, Any], *, localized: bool) -> str:
    """A detail's words with its numbers: in English as stored, or in the active language."""
    if not localized:
        shown = {
            k: f"{v:{'+' if _DECIMALS[k][1] else ''}.{_DECIMALS[k][0]}f}" if k in _DECIMALS else v
            for k, v in args.items()
        }
        return text % shown
    shown = {}
    for key, value in args.items():
        if key in _DECIMALS:
            places, sign = _DECIMALS[key]
            shown[key] = humanize.decimal(value, places, sign=sign)
        elif isinstance(value, int):
            shown[key] = humanize.whole(value)
        else:
            shown[key] = gettext(value)
    return gettext(text) % shown


@dataclass(frozen=True)
class Factor:
    """One part of the score. `text` (an untranslated message with %(name)s placeholders)
    and `args` make the detail; both are stored, so a page says it in its reader's language
    (`explain`) while `detail` keeps the English the rules and the audit read."""

    name: str
    label: str
    points: float
    text: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return _say(self.text, self.args, localized=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "points": self.points,
            "detail": self.detail,
            "text": self.text,
            "args": self.args,
        }


def explain(factor: dict[str, Any]) -> dict[str, Any]:
    """A stored factor as a page shows it, in the active language: label, signed points
    and detail (a factor stored before details were translatable keeps its English)."""
    if "text" in factor:
        detail = _say(factor["text"], factor.get("args") or {}, localized=True)
    else:
        detail = factor.get("detail", "")
    points = factor.get("points", 0)
    return {
        **factor,
        "label": gettext(factor.get("label", "")),
        "detail": detail,
        "points_text": _points_text(points),
    }


def _points_text(points: float) -> str:
    """ "+5", "-12.5", "0" as `{:g}` writes them, with the language's decimal sign."""
    text = f"{points:g}"
    whole, _, fraction = text.lstrip("-").partition(".")
    sign = "-" if text.startswith("-") else "+" if points > 0 else ""
    return sign + (humanize.decimal(float(text.lstrip("-")), len(fraction)) if fraction else whole)


@dataclass(frozen=True)
class Health:
    score: int
    factors: list[Factor] = field(default_factory=list)


def _points(value: float) -> float:
    # One decimal, half away from zero, and never "-0.0".
    rounded = math.copysign(math.floor(abs(value) * 10 + 0.5) / 10, value)
    return rounded + 0.0 if rounded else 0.0


# The factors' names as people read them (translated where shown: `explain`).
REOPEN_RATE = gettext_noop("Reopen rate")
UNRESOLVED = gettext_noop("Unresolved tickets")
SENTIMENT = gettext_noop("Sentiment")
LATEST_CSAT = gettext_noop("Latest CSAT")
LATEST_NPS = gettext_noop("Latest NPS")
LAST_CONTACT = gettext_noop("Last contact")


def _volume(f: Facts) -> Factor:
    baseline = f.baseline_tickets / BASELINE_PERIODS
    excess = f.recent_tickets - max(baseline, 1.0)
    points = -min(20.0, 5 * excess) if excess > 0 else 0.0
    detail = (
        gettext_noop(
            "%(recent)s support tickets in the last 30 days; usually %(usual)s per 30 days"
        ),
        {"recent": f.recent_tickets, "usual": baseline},
    )
    return Factor("ticket_volume", gettext_noop("Ticket volume"), _points(points), *detail)


def _reopens(f: Facts) -> Factor:
    if not f.solved:
        return Factor(
            "reopen_rate", REOPEN_RATE, 0.0, gettext_noop("No ticket solved in the last 90 days")
        )
    rate = f.reopened / f.solved
    detail = (
        gettext_noop("%(reopened)s of %(solved)s tickets solved in the last 90 days were reopened"),
        {"reopened": f.reopened, "solved": f.solved},
    )
    return Factor("reopen_rate", REOPEN_RATE, _points(-20 * rate), *detail)


def _unresolved(f: Facts) -> Factor:
    if f.oldest_open_at is None:
        return Factor("unresolved_age", UNRESOLVED, 0.0, gettext_noop("No open support ticket"))
    days = (f.now - f.oldest_open_at).total_seconds() / DAY
    points = -min(20.0, max(0.0, days - 7))
    detail = (
        gettext_noop("The oldest open support ticket is %(days)s days old"),
        {"days": math.floor(days)},
    )
    return Factor("unresolved_age", UNRESOLVED, _points(points), *detail)


def _sentiment(f: Facts) -> Factor:
    if not f.sentiments:
        return Factor(
            "sentiment", SENTIMENT, 0.0, gettext_noop("No message from them in the last 30 days")
        )
    mean = sum(f.sentiments) / len(f.sentiments)
    points = 15 * mean if mean < 0 else 5 * mean
    detail = (
        gettext_noop("Mean tone %(tone)s (-1 to +1) over their last %(messages)s messages"),
        {"tone": mean, "messages": len(f.sentiments)},
    )
    return Factor("sentiment", SENTIMENT, _points(points), *detail)


def _csat(f: Facts) -> Factor:
    if f.latest_csat is None:
        return Factor("csat", LATEST_CSAT, 0.0, gettext_noop("No CSAT answer in the last year"))
    points = (f.latest_csat - 3) * 5
    scored = gettext_noop("Scored %(score)s of 5")
    return Factor("csat", LATEST_CSAT, _points(points), scored, {"score": f.latest_csat})


def _nps(f: Facts) -> Factor:
    if f.latest_nps is None:
        return Factor("nps", LATEST_NPS, 0.0, gettext_noop("No NPS answer in the last year"))
    score = f.latest_nps
    points, what = (
        (5, gettext_noop("promoter"))
        if score >= 9
        else (0, gettext_noop("passive"))
        if score >= 7
        else (-15, gettext_noop("detractor"))
    )
    scored = gettext_noop("Scored %(score)s of 10 (%(what)s)")
    return Factor("nps", LATEST_NPS, float(points), scored, {"score": score, "what": what})


def _last_contact(f: Facts) -> Factor:
    if f.last_contact_at is None:
        return Factor("last_contact", LAST_CONTACT, 0.0, gettext_noop("Never in touch yet"))
    days = (f.now - f.last_contact_at).total_seconds() / DAY
    points = -min(15.0, max(0.0, (days - 30) / 4))
    ago = gettext_noop("Last message %(days)s days ago")
    return Factor("last_contact", LAST_CONTACT, _points(points), ago, {"days": math.floor(days)})


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


def _account_columns(account: Account) -> dict[str, Any]:
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
