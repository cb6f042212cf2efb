"""Suggestions: made once per ticket and field, applied by an agent's click or by a rule
above a confidence an admin sets, and measured against what agents finally chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from assist import routing
from assist.models import FIELD_LABELS, Suggestion, Use
from tickets import services
from tickets.models import DONE_STATUSES, Team, Ticket, User
from tickets.services import Actor


def suggestions_for(ticket: Ticket, text: str) -> list[Suggestion]:
    """The ticket's suggestions, predicted and stored the first time they are asked for
    (so accuracy in use measures what was shown)."""
    existing = {s.field: s for s in Suggestion.objects.filter(ticket=ticket)}
    if existing:
        return sorted(existing.values(), key=lambda s: s.field)
    loaded = routing.current()
    made = [
        Suggestion(
            ticket=ticket,
            model_id=loaded.run_id if loaded else None,
            field=p.field,
            value=p.value,
            confidence=p.confidence,
        )
        for p in routing.predict(ticket, text)
    ]
    Suggestion.objects.bulk_create(made, ignore_conflicts=True)
    return sorted(Suggestion.objects.filter(ticket=ticket), key=lambda s: s.field)


def _change(suggestion: Suggestion) -> dict[str, Any]:
    if suggestion.field == "team":
        return {"team": Team.objects.get(name=suggestion.value)}
    return {suggestion.field: suggestion.value}


@transaction.atomic
def apply(suggestion: Suggestion, *, actor: Actor) -> None:
    """Set the suggested value through the ticket services (every rule of a change
    applies: a team must work the mailbox, a closed ticket stays closed)."""
    ticket = Ticket.objects.get(pk=suggestion.ticket_id)
    services.update_ticket(ticket, actor=actor, **_change(suggestion))
    Suggestion.objects.filter(pk=suggestion.pk).update(
        applied_at=timezone.now(), applied_by=actor.user
    )


def apply_confident(ticket: Ticket, threshold: float, actor: Actor) -> list[str]:
    """A rule's action: apply every suggestion at or above `threshold`; the fields set."""
    from assist.similar import first_message_text

    done = []
    for suggestion in suggestions_for(ticket, first_message_text(ticket)):
        if suggestion.confidence >= threshold and suggestion.applied_at is None:
            try:
                apply(suggestion, actor=actor)
            except (services.InvalidChange, Team.DoesNotExist):
                continue
            done.append(suggestion.field)
    return done


@dataclass(frozen=True)
class InUse:
    field: str
    suggested: int
    applied: int
    decided: int
    right: int
    corrected: int

    @property
    def label(self) -> str:
        return str(FIELD_LABELS.get(self.field, self.field))

    @property
    def accuracy(self) -> float | None:
        return self.right / self.decided if self.decided else None


_CURRENT = {
    "team": F("ticket__team__name"),
    "kind": F("ticket__kind"),
    "priority": F("ticket__priority"),
}


def accuracy_in_use(since: datetime) -> list[InUse]:
    """Per field, suggestions since `since`: how many were applied, and for tickets now
    solved whether the final value is the suggested one; applied ones changed since are
    agents' corrections. One query per field."""
    out = []
    for field, current in _CURRENT.items():
        rows = Suggestion.objects.filter(field=field, created_at__gte=since).aggregate(
            suggested=Count("pk"),
            applied=Count("pk", filter=Q(applied_at__isnull=False)),
            decided=Count("pk", filter=Q(ticket__status__in=DONE_STATUSES)),
            right=Count("pk", filter=Q(ticket__status__in=DONE_STATUSES, value=current)),
            corrected=Count("pk", filter=Q(applied_at__isnull=False) & ~Q(value=current)),
        )
        out.append(InUse(field, **rows))
    return out


def record_use(ticket: Ticket, agent: User, kind: str, source_id: int | None) -> None:
    Use.objects.create(ticket=ticket, agent=agent, kind=kind, source_id=source_id)


def use_counts(since: datetime) -> dict[str, int]:
    rows = Use.objects.filter(at__gte=since).values("kind").annotate(n=Count("pk"))
    return {row["kind"]: row["n"] for row in rows}
