"""Django's Redis cache with one Redis client object per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` object on every call
(each cache.get/add/incr): about a millisecond of CPU for the object alone, paid several
times per ingested message (rate limit, figures pending key). A `redis.Redis` is
thread-safe and takes its connections from the pool, so one per pool does the same
work; the pool itself already resets its connections in a forked child.
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class SharedClientRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache whose client object is built once per pool."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


def writer() -> redis.Redis:
    """The Redis client behind the default cache, for a pipeline of several commands in
    one round trip on keys named by `cache.make_and_validate_key`."""
    return cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
