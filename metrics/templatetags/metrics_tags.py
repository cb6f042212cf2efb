"""Survey answers on the agent's ticket page: `{% load metrics_tags %}`.

`{% ticket_surveys ticket %}` shows the ticket's CSAT and CES answers (one query);
`{% customer_surveys customer %}` the customer's latest answers of any survey, NPS
included, for the customer panel (one query).
"""

from __future__ import annotations

from typing import Any

from django import template

from metrics import surveys
from tickets.models import Customer, Ticket

register = template.Library()


@register.inclusion_tag("metrics/_ticket_surveys.html")
def ticket_surveys(ticket: Ticket) -> dict[str, Any]:
    return {"responses": surveys.ticket_responses(ticket), "ticket": ticket}


@register.inclusion_tag("metrics/_customer_surveys.html")
def customer_surveys(customer: Customer) -> dict[str, Any]:
    return {"responses": surveys.customer_responses(customer), "customer": customer}
