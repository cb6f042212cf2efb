"""Small per-process caches of setup rows (rules, SLA policies) that every change reads.

Each cache holds a version token kept in Redis: saving a rule or policy replaces it, and
every web or worker process reloads on its next read. A random token, not a counter, so
a flushed Redis can never hand out a version a process already holds. A change costs one Redis GET
instead of a database query per rule.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from django.core.cache import cache


class VersionedCache[T]:
    def __init__(self, key: str, load: Callable[[], T]) -> None:
        self.key = f"tandem:version:{key}"
        self.load = load
        self._local = threading.local()

    def get(self) -> T:
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, secrets.token_hex(8), timeout=None)
            version = cache.get(self.key)
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == version:
            return held[1]
        value = self.load()
        self._local.held = (version, value)
        return value

    def bump(self) -> None:
        """Call after commit of any change to the cached rows."""
        cache.set(self.key, secrets.token_hex(8), timeout=None)
