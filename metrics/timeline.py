"""Survey answers on a customer's or an organization's timeline (tickets/profiles.py),
registered on `hooks.timeline_entries`: the answers the viewer may see, as
surveys.customer_responses decides (CSAT and CES of the tickets they may open; NPS)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from metrics.models import SCORE_RANGES, SurveyResponse
from tickets.profiles import TimelineEntry, TimelineQuery


def survey_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """One query: at most `query.limit` answers older than its cursor, newest first."""
    answers = (
        SurveyResponse.objects.filter(customer_id__in=query.customer_ids)
        .filter(Q(ticket__isnull=True) | Q(ticket__in=query.visible_tickets().values("pk")))
        .filter(query.older("submitted_at", "survey"))
        .select_related("ticket")
        .only("kind", "score", "comment", "submitted_at", "ticket__subject")
        .order_by("-submitted_at", "-pk")[: query.limit]
    )
    return [
        TimelineEntry(
            answer.submitted_at,
            "survey",
            answer.pk,
            _("%(survey)s answer: %(score)s of %(top)s")
            % {
                "survey": answer.kind.upper(),
                "score": answer.score,
                "top": SCORE_RANGES[answer.kind][1],
            },
            "survey",
            answer.ticket.subject if answer.ticket else _("About us as a whole"),
            answer.comment,
            answer.ticket_id,
        )
        for answer in answers
    ]
