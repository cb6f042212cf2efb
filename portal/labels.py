"""Words the portal translates at run time: the ticket statuses in the customer's words,
whose English msgids are the core's labels (tickets.models.Status); the templates show
them with {{ ticket.customer_status_label }} (Ticket.customer_status_label), since the
core's labels are translated for agents."""

from django.utils.translation import pgettext_lazy

STATUSES = [
    pgettext_lazy("ticket status", "New"),
    pgettext_lazy("ticket status", "Open"),
    pgettext_lazy("ticket status", "Pending"),
    pgettext_lazy("ticket status", "On hold"),
    pgettext_lazy("ticket status", "Solved"),
    pgettext_lazy("ticket status", "Closed"),
]
