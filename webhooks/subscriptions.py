"""Which active endpoints listen to which events, held per process (a Redis version check
per read, no query): a change to tickets costs nothing while no endpoint wants it."""

from __future__ import annotations

from django.db import transaction

from helpdesk.local_cache import VersionedCache
from webhooks.models import WebhookEndpoint


def _load() -> list[tuple[int, frozenset[str]]]:
    return [
        (pk, frozenset(events))
        for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events")
    ]


_cache = VersionedCache("webhooks:endpoints", _load)


def any_active() -> bool:
    return bool(_cache.get())


def listeners(event: str) -> list[int]:
    """The active endpoints subscribed to `event`."""
    return [pk for pk, events in _cache.get() if event in events]


def changed() -> None:
    """Call in the transaction that changes an endpoint: every process reloads after commit."""
    transaction.on_commit(_cache.bump)
