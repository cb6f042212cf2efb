"""Small per-process caches of setup rows (rules, SLA policies) that every change reads.

Each cache holds a version token kept in Redis: saving a rule or policy replaces it, and
every web or worker process reloads on its next read. A random token, not a counter, so
a flushed Redis can never hand out a version a process already holds. A change costs one Redis GET
instead of a database query per rule.

Redis is a cache here, never the record: when it cannot be reached, `get` loads from the
database (and keeps nothing) and `bump` logs; `max_age` bounds how long a process keeps
rows whose change it may not have heard of (a bump lost while Redis was down).
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

from django.core.cache import cache

logger = logging.getLogger(__name__)

# Inside `pinned()`: the versions read so far, by key.
_pinned: ContextVar[dict[str, str] | None] = ContextVar("pinned_versions", default=None)


@contextmanager
def pinned() -> Iterator[None]:
    """Within the block, each cache checks its version once: for work on a batch of
    tickets (a mail batch's rules and SLA), which then sees one version of the rows
    throughout, as a single change does."""
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


class VersionedCache[T]:
    def __init__(self, key: str, load: Callable[[], T], max_age: float | None = None) -> None:
        self.key = f"tandem:version:{key}"
        self.load = load
        self.max_age = max_age
        self._local = threading.local()

    def get(self) -> T:
        versions = _pinned.get()
        version = versions.get(self.key) if versions is not None else None
        if version is None:
            try:
                version = self._version()
            except Exception:
                logger.warning("%s: cache unreachable, read from the database", self.key)
                return self.load()
            if versions is not None:
                versions[self.key] = version
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
        try:
            cache.set(self.key, secrets.token_hex(8), timeout=None)
        except Exception:
            logger.warning("%s: cache unreachable, version not bumped", self.key)
