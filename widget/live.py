"""The conversation stream: server-sent events, on an ASGI server (helpdesk/asgi.py).

Each stream re-reads the database (the record) for the messages after the last one it
sent, then waits for a Redis nudge (services.nudge, after commit of any change to the
ticket) or RECHECK seconds, whichever comes first: without Redis it still answers, a few
seconds late. A stream ends after LIFETIME seconds; the browser's EventSource reconnects
with Last-Event-ID, so no message is lost and no connection lives forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings

from widget import services

log = logging.getLogger(__name__)
RECHECK = 5.0
LIFETIME = 300.0


def event(message: dict[str, object]) -> str:
    return f"id: {message['id']}\nevent: message\ndata: {json.dumps(message)}\n\n"


async def _subscribe(ticket_id: int) -> aioredis.client.PubSub | None:
    try:
        client = aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        pubsub = client.pubsub()
        await pubsub.subscribe(services.channel_name(ticket_id))
        return pubsub
    except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
        log.warning("Redis unreachable: the widget stream re-reads every %ss", RECHECK)
        return None


async def _wait(pubsub: aioredis.client.PubSub | None) -> None:
    if pubsub is None:
        await asyncio.sleep(RECHECK)
        return
    try:
        await pubsub.get_message(ignore_subscribe_messages=True, timeout=RECHECK)
    except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
        await asyncio.sleep(RECHECK)


async def stream(ticket_id: int, after: int) -> AsyncIterator[str]:
    read = sync_to_async(services.new_messages)
    pubsub = await _subscribe(ticket_id)
    ends = time.monotonic() + LIFETIME
    # The browser retries this many milliseconds after a stream ends.
    yield "retry: 1000\n\n"
    try:
        while time.monotonic() < ends:
            for message in await read(ticket_id, after):
                after = int(message["id"])  # type: ignore[call-overload]
                yield event(message)
            # A comment line: proxies see traffic, the browser ignores it.
            yield ": waiting\n\n"
            await _wait(pubsub)
    finally:
        if pubsub is not None:
            await pubsub.aclose()
            await pubsub.connection_pool.disconnect()
