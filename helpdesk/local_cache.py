"""Small per-process caches of setup rows (rules, SLA policies) that every change reads.

Each cache holds a version token kept in Redis: saving a rule or policy replaces it, and
every web or worker process reloads on its next read. A random token, not a counter, so
a flushed Redis can never hand out a version a process already holds. A change costs one Redis GET
instead of a database query per rule.

Redis is a cache here, never the record: when it cannot be reached, `get` loads from the
database (and keeps nothing); a bump that Redis did not take is tried again at this
process's next read, so that the processes still holding the old rows reload once Redis
is back; and `max_age` bounds how long a process keeps rows whose change it may not have
heard of.

A web request reads its versions once (`versions_once_per_request`, a middleware): a
signed-in page asked Redis for the directory's version three times and the custom
fields' twice, a round trip each. The request sees one version of each cache throughout,
as a batch inside `pinned()` does; a change the request makes itself is seen at once
(`bump` replaces the pinned version). A pinned block reads every cache's version in one
round trip (MGET), at its first read of one, or with the signed-in user's row
(`get_with_versions`): a page used three to four versions and asked for each apart.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# Inside `pinned()`: the versions read so far, by key.
_pinned: ContextVar[dict[str, str] | None] = ContextVar("pinned_versions", default=None)
# Every VersionedCache's key (a dict: made in order, each once).
_keys: dict[str, None] = {}
# In a pinned block's versions once they were all asked of Redis.
_ALL_READ = "tandem:version:*"


@contextmanager
def pinned() -> Iterator[None]:
    """Within the block, each cache checks its version once: for work on a batch of
    tickets (a mail batch's rules and SLA), which then sees one version of the rows
    throughout, as a single change does. Inside another pinned block (a web request's),
    the versions that block read hold on."""
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


def get_with_versions(key: str) -> Any:
    """`cache.get(key)`; within a pinned block that has not read the versions yet, in the
    same round trip as them (the signed-in user's row, read before any page's setup rows)."""
    versions = _pinned.get()
    if versions is None or _ALL_READ in versions:
        return cache.get(key)
    return _read_versions(versions, key)


def _read_versions(versions: dict[str, str], key: str | None = None) -> Any:
    """Every version `versions` lacks, and `key`'s value, in one MGET. A version Redis
    does not hold (or a Redis that cannot be reached) is left to VersionedCache.get."""
    wanted = [name for name in _keys if name not in versions]
    found = cache.get_many([*wanted, key] if key is not None else wanted)
    for name in wanted:
        if found.get(name) is not None:
            versions[name] = found[name]
    versions[_ALL_READ] = ""
    return found.get(key) if key is not None else None


def versions_once_per_request(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Middleware: each VersionedCache checks its version in Redis once per request."""

    def middleware(request: HttpRequest) -> HttpResponse:
        with pinned():
            return get_response(request)

    return middleware


class VersionedCache[T]:
    def __init__(self, key: str, load: Callable[[], T], max_age: float | None = None) -> None:
        self.key = f"tandem:version:{key}"
        self.load = load
        self.max_age = max_age
        self._local = threading.local()
        self._bump_pending = False
        _keys[self.key] = None

    def get(self) -> T:
        if self._bump_pending:
            self.bump()
        versions = _pinned.get()
        version = None
        if versions is not None:
            if _ALL_READ not in versions:
                try:
                    _read_versions(versions)
                except Exception:
                    logger.warning("%s: versions not read together", self.key)
                    versions[_ALL_READ] = ""
            version = versions.get(self.key)
        if version is None:
            try:
                version = self._version()
            except Exception:
                logger.warning("%s: cache unreachable, read from the database", self.key)
                return self.load()
            if versions is not None:
                versions[self.key] = version
        if version is None:  # Redis unreachable
            return self.load()
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == version and time.monotonic() < held[2]:
            return held[1]
        value = self.load()
        expires = time.monotonic() + self.max_age if self.max_age is not None else math.inf
        self._local.held = (version, value, expires)
        return value

    def _version(self) -> str:
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, secrets.token_hex(8), timeout=None)
            version = cache.get(self.key)
        return version

    def bump(self) -> None:
        """Call after commit of any change to the cached rows."""
        token = secrets.token_hex(8)
        versions = _pinned.get()
        if versions is not None:
            # The pinned block that made the change reads it from now on.
            versions[self.key] = token
        try:
            cache.set(self.key, token, timeout=None)
            # Read back: a write the degraded cache dropped (Redis unreachable) is tried
            # again at the next read.
            self._bump_pending = cache.get(self.key) != token
        except Exception:
            logger.warning("%s: cache unreachable, version not bumped", self.key)
            self._bump_pending = True
