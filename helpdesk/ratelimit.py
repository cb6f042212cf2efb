"""Rate limits: counters in Redis, shared by every web process and worker.

One kind of window for every limit: it opens at the first counted attempt and lasts
`window` seconds. The counter is created with its expiry and incremented in one MULTI
round trip (SET NX EX, INCR), so no expiry can fall between the two. Counters are keys of
Django's cache (`cache.get(rate.cache_key(who))` reads one), named by the scope and a hash
of who is counted, so no address sits in Redis in the clear.

Used by the portal (sign-in links per address and client address, and per client
address) and mail intake (new tickets per
sender, tickets.mail.redis; a batch of messages counts with `Rate.batch`).

While Redis is unreachable, each process counts on its own (a local memory cache) and
logs it: the limits then hold per process, so a deployment of N web processes lets up to
N times a limit through, rather than no limit at all or refusing everyone (helpdesk/cache.py).

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
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from helpdesk.cache import UNREACHABLE, unavailable, writer

# The counters of this process while Redis is unreachable, under the same keys.
_here = LocMemCache("tandem-ratelimit", {"MAX_ENTRIES": 10_000})


def _count_here(key: str, window: int, by: int = 1) -> int:
    _here.add(key, 0, timeout=window)
    try:
        return _here.incr(key, by)
    except ValueError:  # expired between the two
        _here.set(key, by, timeout=window)
        return by


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
        try:
            pipeline = writer().pipeline(transaction=True)
            pipeline.set(key, 0, ex=self.window, nx=True)
            pipeline.incr(key)
            _, count = pipeline.execute()
        except UNREACHABLE:
            unavailable(f"rate limit {self.scope} counted in this process")
            count = _count_here(key, self.window)
        return int(count) > self.limit

    def enforce(self, identity: str) -> None:
        """Count one attempt; raise RateLimited if it is over the limit."""
        if self.hit(identity):
            ttl = writer().ttl(self._redis_key(identity))
            raise RateLimited(self.scope, ttl if ttl > 0 else self.window)

    def reached(self, identity: str) -> bool:
        """Whether `limit` attempts were counted in the window already, counting none."""
        if self.limit <= 0:
            return False
        key = self._redis_key(identity)
        try:
            count = writer().get(key)
        except UNREACHABLE:
            unavailable(f"rate limit {self.scope} read in this process")
            count = _here.get(key)
        return int(count or 0) >= self.limit

    def retry_after(self, identity: str) -> int:
        """Seconds until this identity's window ends (0 when none is open; the whole
        window while Redis is unreachable)."""
        try:
            return max(0, writer().ttl(self._redis_key(identity)))
        except UNREACHABLE:
            return self.window

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
        values: list[Any] = []
        if rate.limit > 0 and self.keys:
            try:
                values = writer().mget(list(self.keys.values()))
            except UNREACHABLE:
                unavailable(f"rate limit {rate.scope} read in this process")
                values = [_here.get(key) for key in self.keys.values()]
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
        keys = {self.keys.get(i) or self.rate._redis_key(i): n for i, n in self.added.items()}
        try:
            pipeline = writer().pipeline(transaction=True)
            for key, count in keys.items():
                pipeline.set(key, 0, ex=self.rate.window, nx=True)
                pipeline.incrby(key, count)
            pipeline.execute()
        except UNREACHABLE:
            unavailable(f"rate limit {self.rate.scope} counted in this process")
            for key, count in keys.items():
                _count_here(key, self.rate.window, count)
        self.added.clear()
