"""The signed-in user's row, read from the cache (settings.AUTHENTICATION_BACKENDS).

Every signed-in request loads its user. `CachedModelBackend` is Django's ModelBackend
whose `get_user` keeps the row in the cache for `CACHE_SECONDS`: saving or deleting a
user drops it (at once and again after commit, so a request reading the old row in
between cannot put it back for long), and a cache that cannot be reached is passed
over: the row is read from the database as before. The same checks apply to a cached
row as to a fresh one (active, and the session's password hash, which Django compares
after `get_user`).

The entry holds the row's column values under a key naming the model's columns, so a
migration that adds or drops a column never meets an entry of the old shape.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import router, transaction

from helpdesk import local_cache

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60


def _columns() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


def _key(user_id: Any) -> str:
    shape = hashlib.blake2b(",".join(_columns()).encode(), digest_size=4).hexdigest()
    return f"tandem:user:{shape}:{user_id}"


def cached_user(user_id: Any) -> Any | None:
    """The user row `user_id`, from the cache when it holds it; None if there is none."""
    model = get_user_model()
    key = _key(user_id)
    columns = _columns()
    try:
        values = local_cache.get_with_versions(key)
    except Exception:
        values = None
        key = ""  # Redis is down: do not try to write either.
    if values is None:
        values = model._default_manager.filter(pk=user_id).values_list(*columns).first()
        if values is None:
            return None
        if key:
            try:
                cache.set(key, values, CACHE_SECONDS)
            except Exception:
                logger.warning("user %s not written to the cache", user_id)
    return model.from_db(router.db_for_read(model), columns, values)


def forget_user(user_id: Any) -> None:
    """Drop the cached row of `user_id` now and after the current transaction commits."""

    def drop() -> None:
        try:
            cache.delete(_key(user_id))
        except Exception:
            logger.warning("user %s not removed from the cache", user_id)

    drop()
    transaction.on_commit(drop)


def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save and post_delete receiver of the user model (helpdesk.apps)."""
    forget_user(instance.pk)


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any | None:
        user = cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
