"""Demo survey answers and figures for `seed_demo` (fast: bulk inserts, one recompute)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from metrics.models import SurveyInvitation, SurveyKind, SurveyResponse
from metrics.services import recompute_all
from tickets.models import DONE_STATUSES, Customer, Kind, Ticket

CSAT_COMMENTS = [
    "Quick and friendly, thank you!",
    "Solved on the first try.",
    "Took a while, but the answer was right.",
    "I had to explain the problem twice.",
    "",
    "",
    "",
]
NPS_COMMENTS = ["Great support team.", "The product is fine, billing is confusing.", "", ""]


def seed_surveys(rng: random.Random) -> None:
    """Invitations for every solved ticket (so no real mail goes out for demo history),
    answers for about half of them, NPS for a third of the customers, then figures."""
    now = timezone.now()
    invitations, responses = [], []
    solved = Ticket.objects.filter(status__in=DONE_STATUSES, solved_at__isnull=False)
    for ticket in solved.only("pk", "kind", "customer_id", "assignee_id", "solved_at"):
        assert ticket.solved_at is not None  # solved_at__isnull=False
        invitations.append(
            SurveyInvitation(
                kind=SurveyKind.CSAT,
                customer_id=ticket.customer_id,
                ticket=ticket,
                created_at=ticket.solved_at,
                sent_at=ticket.solved_at,
            )
        )
        if rng.random() > 0.5:
            continue
        answered = min(now, ticket.solved_at + timedelta(hours=rng.uniform(0.2, 30)))
        score = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 5, 8])[0]
        common = {
            "customer_id": ticket.customer_id,
            "ticket": ticket,
            "assignee_id": ticket.assignee_id,
            "submitted_at": answered,
        }
        responses.append(
            SurveyResponse(kind="csat", score=score, comment=rng.choice(CSAT_COMMENTS), **common)
        )
        if ticket.kind == Kind.SUPPORT:
            ces = max(1, min(7, score + rng.choice([0, 1, 2])))
            responses.append(SurveyResponse(kind="ces", score=ces, **common))
    for customer in Customer.objects.only("pk").order_by("pk"):
        if rng.random() > 0.35:
            continue
        asked = now - timedelta(days=rng.uniform(1, 80))
        invitation = SurveyInvitation(
            kind=SurveyKind.NPS, customer=customer, created_at=asked, sent_at=asked
        )
        invitation.save()
        responses.append(
            SurveyResponse(
                kind="nps",
                score=rng.choices(range(11), weights=[1, 1, 1, 1, 1, 2, 2, 4, 6, 7, 6])[0],
                comment=rng.choice(NPS_COMMENTS),
                customer=customer,
                submitted_at=asked + timedelta(hours=rng.uniform(0.5, 48)),
                external_key=f"nps-invitation-{invitation.pk}",
            )
        )
    SurveyInvitation.objects.bulk_create(invitations, ignore_conflicts=True)
    SurveyResponse.objects.bulk_create(responses, ignore_conflicts=True)
    recompute_all()
