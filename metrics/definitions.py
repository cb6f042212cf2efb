"""The dashboards' words: each figure's definition and the working-hours notes.

Kept apart from metrics.dashboards (which computes what they describe) so that the
definitions read as one list, in the words of specs/metrics.md.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

# Each figure's definition, in the words of specs/metrics.md, with whom the agent filter
# and the per-agent table count it by.
_BY_FINAL_SOLVE = gettext_lazy("By agent: the ticket's assignee at its final solve.")
_BY_ANSWER = gettext_lazy("By agent: the ticket's assignee when the survey was answered.")
DEFINITIONS = {
    "tickets_created": gettext_lazy(
        "Tickets created in the window. By agent: the assignee at its end."
    ),
    "first_response": gettext_lazy(
        "Time of the first public agent reply minus the ticket's creation time, for "
        "customer-initiated tickets whose first public agent reply falls in the window. "
        "Internal notes, automatic messages and customer messages are not agent replies. "
        "Median and p90 are linear-interpolated percentiles. By agent: the agent who sent "
        "the first reply."
    ),
    "resolution": format_lazy(
        "{} {}",
        gettext_lazy(
            "Full resolution time: time of the final solve minus creation time, for tickets "
            "whose final solve falls in the window. The final solve is the ticket's last solve, "
            "provided it is solved or closed now. Mean = MTTR; median and p90 are "
            "linear-interpolated percentiles."
        ),
        _BY_FINAL_SOLVE,
    ),
    "fcr": format_lazy(
        "{} {}",
        gettext_lazy(
            "One-touch tickets / tickets whose final solve falls in the window, customer-initiated "
            "only. One-touch: a final solve, exactly one public agent reply before it, and zero "
            "reopens."
        ),
        _BY_FINAL_SOLVE,
    ),
    "reopen": format_lazy(
        "{} {}",
        gettext_lazy(
            "Tickets with at least one reopen / tickets whose final solve falls in the window. A "
            "reopen is a change from solved back to an open status."
        ),
        _BY_FINAL_SOLVE,
    ),
    "escalation": format_lazy(
        "{} {}",
        gettext_lazy(
            "Tickets moved at least once to a team of a higher tier / tickets whose final solve "
            "falls in the window. A ticket's first team is routing, not an escalation; the "
            "tiers are the teams' tiers now. By team: the ticket's team now."
        ),
        _BY_FINAL_SOLVE,
    ),
    "backlog": gettext_lazy(
        "Tickets created before the end of the window that were not solved or closed at its "
        "end. By agent: the assignee at the end."
    ),
    "ces": format_lazy(
        "{} {}",
        gettext_lazy(
            "Customer effort: responses (1 = very hard … 7 = very easy) submitted in the "
            "window; mean."
        ),
        _BY_ANSWER,
    ),
    "csat": format_lazy(
        "{} {}",
        gettext_lazy("Responses (scores 1-5) submitted in the window; score = % of responses ≥ 4."),
        _BY_ANSWER,
    ),
    "nps": gettext_lazy(
        "Responses (0-10) submitted in the window; % promoters (9-10) - % detractors (0-6), "
        "from -100 to 100. Asked of a customer, not about a ticket: ticket filters do not apply."
    ),
}
HOURS_NOTE = {
    "calendar": gettext_lazy("Durations in calendar time (wall-clock seconds)."),
    "business": gettext_lazy(
        "Durations in business time: only seconds inside the business-hours calendar of the "
        "ticket's mailbox (else the default calendar) count."
    ),
}
