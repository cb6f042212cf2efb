"""The Redis pieces of mail: per-sender rate limits and per-mailbox fetch locks.

They live in Redis, not in a process, so that any number of workers on any hosts
share them (DESIGN.md: nothing relies on a single process).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache

from helpdesk.cache import writer


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
    # The key of Django's cache (the counter other code reads with cache.get), written
    # in one round trip: MULTI creates the hour's counter if missing and increments it
    # atomically, so no expiry can fall between the two.
    key = cache.make_and_validate_key(rate_key(sender))
    pipeline = writer().pipeline(transaction=True)
    pipeline.set(key, 0, ex=3700, nx=True)
    pipeline.incr(key)
    _, count = pipeline.execute()
    return int(count) > limit


class SenderCounts:
    """`over_rate_limit` for a batch of messages, in two round trips instead of one per
    new ticket: the senders' counts of this hour read at once, the batch's new tickets
    counted here, and the additions written back by `save()` (SET NX + INCRBY, as
    `over_rate_limit` does). Two batches from one sender at the same moment may each let
    through what together is a little over the limit; the limit stops storms, not the
    odd extra ticket."""

    def __init__(self, senders: Iterable[str]) -> None:
        self.limit = settings.MAIL_RATE_LIMIT_PER_HOUR
        self.keys = {sender: cache.make_and_validate_key(rate_key(sender)) for sender in senders}
        values = writer().mget(list(self.keys.values())) if self.limit > 0 and self.keys else []
        self.counts = {s: int(v or 0) for s, v in zip(self.keys, values, strict=False)}
        self.added: Counter[str] = Counter()

    def over_limit(self, sender: str) -> bool:
        """Count one new ticket for `sender`; True once past the limit."""
        if self.limit <= 0:
            return False
        self.added[sender] += 1
        return self.counts.get(sender, 0) + self.added[sender] > self.limit

    def save(self) -> None:
        if not self.added:
            return
        pipeline = writer().pipeline(transaction=True)
        for sender, count in self.added.items():
            key = self.keys.get(sender) or cache.make_and_validate_key(rate_key(sender))
            pipeline.set(key, 0, ex=3700, nx=True)
            pipeline.incrby(key, count)
        pipeline.execute()
        self.added.clear()


def mailbox_lock(mailbox_id: int, timeout: int) -> redis.lock.Lock:
    """Held while a worker fetches a mailbox, so two workers never fetch it at once."""
    return client().lock(f"tandem:mail:fetch:{mailbox_id}", timeout=timeout, blocking=False)
