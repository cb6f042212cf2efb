"""The ticket choices' labels as the agent app shows them, translated.

The models' labels are the agents' words (statuses with the context "ticket status for
agents"; the portal says them its customers' way: portal/labels.py, context "ticket
status"). These lazy labels follow the active language; a hot path (the inbox rows)
turns them into text once per language.
"""

from __future__ import annotations

from django.utils.functional import Promise

from tickets.models import Channel, Kind, Priority, Status

# One word per choice: the models' own labels (agents' wording, with a context where a
# word has other senses), so a ticket reads the same in the inbox, on its page and in a menu.
STATUS_LABELS: dict[str, Promise] = {choice: choice.label for choice in Status}
PRIORITY_LABELS: dict[str, Promise] = {choice: choice.label for choice in Priority}
KIND_LABELS: dict[str, Promise] = {choice: choice.label for choice in Kind}
CHANNEL_LABELS: dict[str, Promise] = {choice: choice.label for choice in Channel}


def choices(labels: dict[str, Promise]) -> list[tuple[str, Promise]]:
    """(value, label) pairs in the choices' order, for a `<select>`."""
    return list(labels.items())
