"""Words the portal translates at run time: the ticket statuses, whose English labels are
the core's (tickets.models.Status); the templates show them with
{% translate ticket.get_status_display context "ticket status" %}."""

from django.utils.translation import pgettext_lazy

STATUSES = [
    pgettext_lazy("ticket status", "New"),
    pgettext_lazy("ticket status", "Open"),
    pgettext_lazy("ticket status", "Pending"),
    pgettext_lazy("ticket status", "On hold"),
    pgettext_lazy("ticket status", "Solved"),
    pgettext_lazy("ticket status", "Closed"),
]
