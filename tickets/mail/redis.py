"""The Redis pieces of mail: per-sender rate limits and per-mailbox fetch locks.

They live in Redis, not in a process, so that any number of workers on any hosts
share them (DESIGN.md: nothing relies on a single process).
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings
from django.db import OperationalError

from helpdesk.ratelimit import Rate

# Failures of the infrastructure, not of a message: the database or Redis (rate limits,
# locks) unreachable or refusing for now. Ingest raises them instead of quarantining, so
# the mail waits at its door for the next attempt: left unseen on the IMAP server, a
# webhook row back to "received" for the sweep, `ingest_email` stopping with an error.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, redis.RedisError)


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


def mailbox_lock_key(mailbox_id: int) -> str:
    return f"tandem:mail:fetch:{mailbox_id}"


def mailbox_lock(mailbox_id: int, timeout: int) -> redis.lock.Lock:
    """Held while a worker fetches a mailbox, so two workers never fetch it at once: a
    lease of `timeout` seconds that the poll renews at every step (tickets/mail/imap.py),
    so a worker that dies holds the mailbox for seconds, not for a whole poll."""
    return client().lock(mailbox_lock_key(mailbox_id), timeout=timeout, blocking=False)


def mailbox_lease_left(mailbox_id: int) -> float | None:
    """Seconds left on the lease a worker holds on the mailbox, None when nobody holds it."""
    left = client().pttl(mailbox_lock_key(mailbox_id))
    return left / 1000 if left and left > 0 else None
