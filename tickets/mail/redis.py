"""The Redis pieces of mail: per-sender rate limits and per-mailbox fetch locks.

They live in Redis, not in a process, so that any number of workers on any hosts
share them (DESIGN.md: nothing relies on a single process).
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def rate_key(sender: str, now: float | None = None) -> str:
    digest = hashlib.sha256(sender.lower().encode()).hexdigest()[:24]
    return f"mail:rate:{digest}:{int((now or time.time()) // 3600)}"


def over_rate_limit(sender: str) -> bool:
    """Count one new ticket for `sender` this hour; True once past the limit."""
    limit = settings.MAIL_RATE_LIMIT_PER_HOUR
    if limit <= 0:
        return False
    key = rate_key(sender)
    # Through Django's cache (Redis): add() creates the hour's counter atomically, then
    # incr() is Redis INCR.
    cache.add(key, 0, timeout=3700)
    try:
        return cache.incr(key) > limit
    except ValueError:
        # The counter expired between the two calls: this is the first of a new hour.
        return False


def mailbox_lock(mailbox_id: int, timeout: int) -> redis.lock.Lock:
    """Held while a worker fetches a mailbox, so two workers never fetch it at once."""
    return client().lock(f"tandem:mail:fetch:{mailbox_id}", timeout=timeout, blocking=False)
