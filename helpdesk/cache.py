"""Django's Redis cache, made to share one client object per pool and to degrade when
Redis is unreachable.

One client per pool: Django's `RedisCacheClient.get_client` builds a new `redis.Redis`
object on every call (each cache.get/add/incr): about a millisecond of CPU for the object
alone, paid several times per ingested message (rate limit, figures pending key). A
`redis.Redis` is thread-safe and takes its connections from the pool, so one per pool does
the same work; the pool itself already resets its connections in a forked child.

Degrading: Redis is optional for reading and signing in. While it is unreachable, a
cache read misses and a cache write is dropped (logged, at most once a minute per kind),
so pages that use the cache answer from the database instead of a 500. Code that talks
to Redis through `writer()` (rate limits, presence, the figures' pending keys) catches
`UNREACHABLE` and falls back itself. After a failed connection the pool refuses at once
for `RETRY_AFTER` seconds instead of waiting for a connect timeout on every call (a
Redis host that is down can take seconds to time out), then tries again.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)

# What redis-py raises when the server cannot be reached or stops answering (it wraps
# the socket's OSError in these). A bad command (ResponseError) is a bug and still raises.
UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
RETRY_AFTER = 5.0  # seconds a pool refuses at once after a failed connection
LOG_EVERY = 60.0  # seconds between two warnings of one kind
_last_warned: dict[str, float] = {}


def unavailable(what: str) -> None:
    """Call on catching `UNREACHABLE`: log that `what` went without Redis (a warning at
    most once a minute per `what`), and have the default cache's pools refuse at once for
    RETRY_AFTER seconds (a server that hangs after accepting fails here, not on connect)."""
    now = time.monotonic()
    for pool in getattr(cache._cache, "_pools", {}).values():  # type: ignore[attr-defined]
        if isinstance(pool, FailFastConnectionPool):
            pool.down_until = now + RETRY_AFTER
    if now - _last_warned.get(what, -LOG_EVERY) >= LOG_EVERY:
        _last_warned[what] = now
        log.warning("Redis unreachable: %s", what, exc_info=True)


class FailFastConnectionPool(redis.ConnectionPool):
    """A pool that, once a connection to the server failed, fails at once for
    RETRY_AFTER seconds (per pool, so per process) instead of trying again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.down_until = 0.0

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self.down_until:
            raise redis.exceptions.ConnectionError("Redis was unreachable moments ago")
        try:
            return super().get_connection(*args, **kwargs)
        except UNREACHABLE:
            self.down_until = time.monotonic() + RETRY_AFTER
            raise


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("pool_class", FailFastConnectionPool)
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


def _or_else(otherwise: Callable[..., Any]) -> Callable[[Callable[..., Any]], Any]:
    """A cache method that answers `otherwise(*args, **kwargs)` when Redis is unreachable."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE:
                unavailable(f"cache {method.__name__} answered without it")
                return otherwise(*args, **kwargs)

        return call

    return wrap


def _default(key: Any, default: Any = None, *_: Any, **kwargs: Any) -> Any:
    return kwargs.get("default", default)


def _nothing(*_: Any, **__: Any) -> None:
    return None


def _false(*_: Any, **__: Any) -> bool:
    return False


class SharedClientRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache whose client object is built once per pool,
    and whose reads miss and writes are dropped while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    get = _or_else(_default)(RedisCache.get)
    get_many = _or_else(lambda *_, **__: {})(RedisCache.get_many)
    has_key = _or_else(_false)(RedisCache.has_key)
    add = _or_else(_false)(RedisCache.add)
    set = _or_else(_nothing)(RedisCache.set)
    set_many = _or_else(lambda data, *_, **__: list(data))(RedisCache.set_many)
    touch = _or_else(_false)(RedisCache.touch)
    delete = _or_else(_false)(RedisCache.delete)
    delete_many = _or_else(_nothing)(RedisCache.delete_many)
    clear = _or_else(_false)(RedisCache.clear)


def writer() -> redis.Redis:
    """The Redis client behind the default cache, for a pipeline of several commands in
    one round trip on keys named by `cache.make_and_validate_key`. Its commands raise
    `UNREACHABLE` while Redis is down: the caller decides what to do without it."""
    return cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
