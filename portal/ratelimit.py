"""Fixed-window rate limits in Redis (the Django cache), shared by every web process."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


class RateLimited(Exception):
    """Too many attempts in the current window."""


def _key(scope: str, identity: str) -> str:
    # Hashed so that e-mail addresses never sit in Redis in the clear.
    digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def hit(scope: str, identity: str, *, limit: int, window_seconds: int) -> None:
    """Count one attempt; raise RateLimited once `limit` attempts fell in the window."""
    key = _key(scope, identity)
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    if count > limit:
        raise RateLimited(scope)
