"""Small per-process caches of setup rows (rules, SLA policies) that every change reads.

Each cache holds a version token kept in Redis: saving a rule or policy replaces it, and
every web or worker process reloads on its next read. A random token, not a counter, so
a flushed Redis can never hand out a version a process already holds. A change costs one Redis GET
instead of a database query per rule.

While Redis is unreachable there is no version to hold rows against: each read loads
them (a query per change, as without the cache). A bump that Redis did not take is
tried again at this process's next read, so that the processes still holding the old
rows reload once Redis is back.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache

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
    def __init__(self, key: str, load: Callable[[], T]) -> None:
        self.key = f"tandem:version:{key}"
        self.load = load
        self._local = threading.local()
        self._bump_pending = False

    def get(self) -> T:
        if self._bump_pending:
            self.bump()
        versions = _pinned.get()
        version = versions.get(self.key) if versions is not None else None
        if version is None:
            version = cache.get(self.key)
            if version is None:
                cache.add(self.key, secrets.token_hex(8), timeout=None)
                version = cache.get(self.key)
            if versions is not None:
                versions[self.key] = version
        if version is None:  # Redis unreachable
            return self.load()
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == version:
            return held[1]
        value = self.load()
        self._local.held = (version, value)
        return value

    def bump(self) -> None:
        """Call after commit of any change to the cached rows."""
        token = secrets.token_hex(8)
        cache.set(self.key, token, timeout=None)
        # Read back: a write the degraded cache dropped (Redis unreachable) is tried again.
        self._bump_pending = cache.get(self.key) != token
