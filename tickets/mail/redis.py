"""The Redis pieces of mail: per-sender rate limits and per-mailbox fetch locks.

They live in Redis, not in a process, so that any number of workers on any hosts
share them (DESIGN.md: nothing relies on a single process).
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings

from helpdesk.ratelimit import Rate


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def sender_rate() -> Rate:
    """New tickets from one sender: at most MAIL_RATE_LIMIT_PER_HOUR an hour (0: no limit).
    `.hit(sender)` counts one; a batch of messages counts with `.batch(senders)`. The hour
    runs from the sender's first counted ticket, not by the clock, so a storm that spans
    the top of an hour is not let through twice."""
    return Rate("mail-sender", settings.MAIL_RATE_LIMIT_PER_HOUR, 3600)


def mailbox_lock(mailbox_id: int, timeout: int) -> redis.lock.Lock:
    """Held while a worker fetches a mailbox, so two workers never fetch it at once."""
    return client().lock(f"tandem:mail:fetch:{mailbox_id}", timeout=timeout, blocking=False)
