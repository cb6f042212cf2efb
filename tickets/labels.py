"""The ticket choices' labels as the agent app shows them, translated.

The models' labels stay the English source: the portal translates them with its own
customers' wording (portal/labels.py, context "ticket status"). These lazy labels follow
the active language; a hot path (the inbox rows) turns them into text once per language.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models import Channel, Kind, Priority, Status

STATUS_LABELS: dict[str, Promise] = {
    Status.NEW: _("New"),
    Status.OPEN: _("Open"),
    Status.PENDING: _("Pending"),
    Status.ON_HOLD: _("On hold"),
    Status.SOLVED: _("Solved"),
    Status.CLOSED: _("Closed"),
}
PRIORITY_LABELS: dict[str, Promise] = {
    Priority.LOW: pgettext_lazy("priority", "Low"),
    Priority.NORMAL: pgettext_lazy("priority", "Normal"),
    Priority.HIGH: pgettext_lazy("priority", "High"),
    Priority.URGENT: pgettext_lazy("priority", "Urgent"),
}
KIND_LABELS: dict[str, Promise] = {
    Kind.SUPPORT: pgettext_lazy("ticket kind", "Support"),
    Kind.SERVICE: pgettext_lazy("ticket kind", "Service"),
}
CHANNEL_LABELS: dict[str, Promise] = {
    Channel.EMAIL: _("Email"),
    Channel.PORTAL: _("Portal"),
    Channel.API: _("API"),
    Channel.OUTBOUND: _("Outbound"),
    Channel.IMPORT: _("Import"),
    Channel.PHONE: _("Phone"),
    Channel.CHAT: _("Chat"),
    Channel.WALK_IN: _("Walk-in"),
}


def choices(labels: dict[str, Promise]) -> list[tuple[str, Promise]]:
    """(value, label) pairs in the choices' order, for a `<select>`."""
    return list(labels.items())
