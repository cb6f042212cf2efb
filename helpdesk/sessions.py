"""Sessions kept in the database and read from the cache (settings.SESSION_ENGINE).

Django's cached_db backend, which spares every signed-in request its session query,
made safe for a Redis outage: the database stays the record, and a cache that cannot
be read or written is passed over (the session is read from and written to the
database alone) instead of failing the request. Django's own backend already reads
past a failing cache, but a write or delete to it raises.

A session is held in the cache for at most `CACHE_SECONDS`, not its whole life, so
that an entry a Redis outage kept from being replaced or deleted (a sign-out while
Redis was down, and a Redis that kept its data) outlives it by that much at the most.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.core.cache.backends.base import BaseCache

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600


class SessionStore(cached_db.SessionStore):
    # Set by Django's backends; django-stubs does not declare them.
    _cache: BaseCache
    _session: dict[str, Any]

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            # Redis down (or a key the cache refuses): the database has the session.
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()  # type: ignore[attr-defined]  # django-stubs: db.SessionStore's own helper
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def exists(self, session_key: str | None) -> bool:
        # Only asked for new keys: the database alone answers it truthfully.
        if not session_key:
            return False
        return super(cached_db.SessionStore, self).exists(session_key)

    def save(self, must_create: bool = False) -> None:
        super(cached_db.SessionStore, self).save(must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        key = session_key or self.session_key
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except Exception:
            logger.warning("session %s… not removed from the cache (%s)", key[:6], self._cache)

    def _cache_set(self, data: dict[str, Any], expiry_age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, min(expiry_age, CACHE_SECONDS))
        except Exception:
            logger.warning("session not written to the cache (%s)", self._cache)
