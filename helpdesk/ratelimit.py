"""Rate limits: counters in Redis, shared by every web process and worker.

One kind of window for every limit: it opens at the first counted attempt and lasts
`window` seconds. The counter is created with its expiry and incremented in one MULTI
round trip (SET NX EX, INCR), so no expiry can fall between the two. Counters are keys of
Django's cache (`cache.get(rate.cache_key(who))` reads one), named by the scope and a hash
of who is counted, so no address sits in Redis in the clear.

Used by the portal (sign-in links per address and client address, and per client
address) and mail intake (new tickets per
sender, tickets.mail.redis; a batch of messages counts with `Rate.batch`).

Hand-written rather than django-ratelimit or limits: django-ratelimit's windows are
aligned to the clock (not to the first attempt, as these limits are) and it counts one
key per call, so a mail batch could not count its senders in two round trips; limits keeps
its counters in a Redis client of its own, outside the cache that tests and the admin read.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache

from helpdesk.cache import writer


class RateLimited(Exception):
    """Too many attempts in the current window, which ends in `retry_after` seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(scope)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    """At most `limit` attempts per `window` seconds for each identity in `scope`; a limit
    of 0 or less counts nothing and refuses nothing."""

    scope: str
    limit: int
    window: int

    def cache_key(self, identity: str) -> str:
        digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}"

    def _redis_key(self, identity: str) -> str:
        return cache.make_and_validate_key(self.cache_key(identity))

    def hit(self, identity: str) -> bool:
        """Count one attempt; True if it is over the limit."""
        if self.limit <= 0:
            return False
        key = self._redis_key(identity)
        pipeline = writer().pipeline(transaction=True)
        pipeline.set(key, 0, ex=self.window, nx=True)
        pipeline.incr(key)
        _, count = pipeline.execute()
        return int(count) > self.limit

    def enforce(self, identity: str) -> None:
        """Count one attempt; raise RateLimited if it is over the limit."""
        if self.hit(identity):
            ttl = writer().ttl(self._redis_key(identity))
            raise RateLimited(self.scope, ttl if ttl > 0 else self.window)

    def reached(self, identity: str) -> bool:
        """Whether `limit` attempts were counted in the window already, counting none."""
        return self.limit > 0 and int(cache.get(self.cache_key(identity)) or 0) >= self.limit

    def retry_after(self, identity: str) -> int:
        """Seconds until this identity's window ends (0 when none is open)."""
        return max(0, writer().ttl(self._redis_key(identity)))

    def batch(self, identities: Iterable[str]) -> Batch:
        return Batch(self, identities)


class Batch:
    """`Rate.hit` for a batch of attempts in two round trips instead of one per attempt:
    the identities' counts read at once (MGET), the batch's attempts counted here, and the
    additions written back by `save()` (SET NX EX + INCRBY, as `hit` does). Two batches for
    one identity at the same moment may each let through what together is a little over
    the limit: the mail limit stops storms, not the odd extra ticket."""

    def __init__(self, rate: Rate, identities: Iterable[str]) -> None:
        self.rate = rate
        self.keys = {identity: rate._redis_key(identity) for identity in identities}
        values = writer().mget(list(self.keys.values())) if rate.limit > 0 and self.keys else []
        self.counts = {i: int(v or 0) for i, v in zip(self.keys, values, strict=False)}
        self.added: Counter[str] = Counter()

    def hit(self, identity: str) -> bool:
        """Count one attempt; True if it is over the limit."""
        if self.rate.limit <= 0:
            return False
        self.added[identity] += 1
        return self.counts.get(identity, 0) + self.added[identity] > self.rate.limit

    def save(self) -> None:
        if not self.added:
            return
        pipeline = writer().pipeline(transaction=True)
        for identity, count in self.added.items():
            key = self.keys.get(identity) or self.rate._redis_key(identity)
            pipeline.set(key, 0, ex=self.rate.window, nx=True)
            pipeline.incrby(key, count)
        pipeline.execute()
        self.added.clear()
