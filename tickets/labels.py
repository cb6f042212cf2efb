"""The ticket choices' labels as the agent app shows them, translated.

The models' labels are the agents' words (statuses with the context "ticket status for
agents"; the portal says them its customers' way: portal/labels.py, context "ticket
status"). These lazy labels follow the active language; a hot path (the inbox rows)
turns them into text once per language.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.functional import Promise
from django.utils.translation import get_language

from tickets.models import Channel, DeliveryStatus, Kind, Priority, Status

# One word per choice: the models' own labels (agents' wording, with a context where a
# word has other senses), so a ticket reads the same in the inbox, on its page and in a menu.
STATUS_LABELS: dict[str, Promise] = {choice: choice.label for choice in Status}
PRIORITY_LABELS: dict[str, Promise] = {choice: choice.label for choice in Priority}
KIND_LABELS: dict[str, Promise] = {choice: choice.label for choice in Kind}
CHANNEL_LABELS: dict[str, Promise] = {choice: choice.label for choice in Channel}


_BY_FIELD: dict[str, dict[str, Promise]] = {
    "status": STATUS_LABELS,
    "priority": PRIORITY_LABELS,
    "kind": KIND_LABELS,
    "channel": CHANNEL_LABELS,
    "delivery_status": {choice: choice.label for choice in DeliveryStatus},
}


@lru_cache(maxsize=16)
def _texts(language: str | None) -> dict[str, dict[str, str]]:
    # Called with the active language: each label translated once per process and language.
    return {
        field: {value: str(label) for value, label in labels.items()}
        for field, labels in _BY_FIELD.items()
    }


def texts(field: str) -> dict[str, str]:
    """The labels of a field's choices (status, priority, kind, channel, delivery_status)
    as text in the active language. Django's get_<field>_display() builds the choices'
    dictionary and translates every label on each call (~0.1 ms)."""
    return _texts(get_language())[field]


def label(field: str, value: str) -> str:
    """One choice's label in the active language (the value itself if it is no choice)."""
    return texts(field).get(value, value)


def choices(labels: dict[str, Promise]) -> list[tuple[str, Promise]]:
    """(value, label) pairs in the choices' order, for a `<select>`."""
    return list(labels.items())
