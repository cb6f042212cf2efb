"""Drill-down: which tickets stand behind a dashboard figure, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from metrics.aggregates import FIGURES, Window
from metrics.models import SurveyKind, SurveyResponse, TicketFigures
from tickets.models import User

# Drill-down: which tickets stand behind a figure. FCR and reopen narrow the resolution
# tickets with the same per-ticket columns their rates count.
DRILL_FIGURES = {
    "tickets_created": ("tickets_created", ""),
    "first_response": ("first_response", ""),
    "resolution": ("resolution", ""),
    "fcr": ("resolution", "fx.customer_initiated"),
    "one_touch": ("resolution", "fx.customer_initiated AND fx.one_touch"),
    "reopen": ("resolution", "fx.reopens >= 1"),
    "escalation": ("resolution", "fx.escalations >= 1"),
    "backlog": ("backlog", ""),
    "csat": ("csat", ""),
    "ces": ("ces", ""),
}


def drill_down(name: str, w: Window, *, limit: int, offset: int = 0) -> list[int]:
    """Ticket numbers behind a figure, most recent first, one page of them."""
    figure, condition = DRILL_FIGURES[name]
    text, params = FIGURES[figure](w, "rows")
    sql = f"SELECT d.ticket_id FROM ({text}) d"  # noqa: S608 (fixed fragments)
    if condition:
        sql += " JOIN metrics_ticketfigures fx ON fx.ticket_id = d.ticket_id WHERE " + condition
    sql += " ORDER BY d.at DESC, d.ticket_id DESC LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [row[0] for row in cursor.fetchall()]


COUNTED_AGENT = {
    "first_response": "first_reply_agent",
    "resolution": "final_solve_assignee",
    "fcr": "final_solve_assignee",
    "one_touch": "final_solve_assignee",
    "reopen": "final_solve_assignee",
    "escalation": "final_solve_assignee",
}


def counts_an_agent(figure: str) -> bool:
    """Whether the drill-down's agent column is the agent the figure counts (else the
    assignee now)."""
    return figure in COUNTED_AGENT or figure in (SurveyKind.CSAT, SurveyKind.CES)


@dataclass
class DrillRow:
    figures: TicketFigures
    answer: SurveyResponse | None
    agent: User | None  # whom the figure counts this ticket for (COUNTED_AGENT)


def drill_rows(figure: str, w: Window, *, page: int, size: int) -> tuple[list[DrillRow], bool]:
    """One page of the tickets behind a figure, most recent first, with their figures, the
    agent the figure counts each for and, for CSAT and CES, the answer it counts; and
    whether a next page exists.

    Three queries: the ticket numbers (drill_down), their figures with ticket
    and agents, and for a survey figure the answers of those tickets with their assignee.
    """
    numbers = drill_down(figure, w, limit=size + 1, offset=(page - 1) * size)
    has_next = len(numbers) > size
    numbers = numbers[:size]
    counted = COUNTED_AGENT.get(figure)
    figures = {
        f.ticket_id: f
        for f in TicketFigures.objects.filter(ticket_id__in=numbers).select_related(
            "ticket", "ticket__assignee", *([counted] if counted else [])
        )
    }
    answers: dict[int | None, SurveyResponse] = {}
    if figure in (SurveyKind.CSAT, SurveyKind.CES):
        answers = {
            r.ticket_id: r
            for r in SurveyResponse.objects.filter(
                ticket_id__in=numbers, kind=figure
            ).select_related("assignee")
        }
    rows = []
    for number in numbers:
        if number not in figures:
            continue
        f, answer = figures[number], answers.get(number)
        if counted:
            agent = getattr(f, counted)
        elif answer is not None:
            agent = answer.assignee
        else:
            agent = f.ticket.assignee
        rows.append(DrillRow(f, answer, agent))
    return rows, has_next
