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
(`bump` replaces the pinned version).
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
from django.http import HttpRequest, HttpResponse

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

    def get(self) -> T:
        if self._bump_pending:
            self.bump()
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
