"""tickets.labels: a ticket choice's label at a dictionary lookup's cost, the same words
as the model's get_<field>_display() in every language."""

from __future__ import annotations

import pytest
from django.utils import translation

from tickets import labels
from tickets.models import Channel, DeliveryStatus, Kind, Message, Priority, Status, Ticket


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_each_label_is_the_models_own_in_each_language(language: str) -> None:
    with translation.override(language):
        for field, choices in (
            ("status", Status),
            ("priority", Priority),
            ("kind", Kind),
            ("channel", Channel),
        ):
            for choice in choices:
                ticket = Ticket(**{field: choice.value})
                shown = getattr(ticket, f"get_{field}_display")()
                assert labels.label(field, choice.value) == shown
        for choice in DeliveryStatus:
            message = Message(delivery_status=choice.value)
            shown = message.get_delivery_status_display()  # type: ignore[attr-defined]
            assert labels.label("delivery_status", choice.value) == shown


def test_the_words_follow_the_active_language() -> None:
    with translation.override("de"):
        german = labels.label("status", Status.NEW)
    with translation.override("en"):
        english = labels.label("status", Status.NEW)
    assert (german, english) == ("Neu", "New")
    assert labels.label("status", "no-such-status") == "no-such-status"
