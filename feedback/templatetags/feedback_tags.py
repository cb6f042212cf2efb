"""The feedback panel of the agent's ticket page: `{% load feedback_tags %}`,
`{% ticket_feedback ticket viewer %}`."""

from __future__ import annotations

from typing import Any

from django import template

from feedback.views import ticket_panel_context
from tickets.models import Ticket, User

register = template.Library()


@register.inclusion_tag("feedback/_ticket_panel.html", takes_context=True)
def ticket_feedback(context: dict[str, Any], ticket: Ticket, viewer: User) -> dict[str, Any]:
    panel = ticket_panel_context(ticket, viewer)
    panel["csrf_token"] = context.get("csrf_token")
    return panel
