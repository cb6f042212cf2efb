"""Who is looking at a ticket, and who is typing a reply, shared by every web process.

State lives in Redis (not process memory) so agents served by different web processes
see each other. Each ticket has two sorted sets, member = user id, score = last heartbeat
time; entries older than PRESENCE_TTL seconds no longer count, and the keys themselves
expire, so a closed browser tab disappears on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache

from tickets.models import User

PRESENCE_TTL = 20  # seconds; the ticket page polls every 5


@memoize
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _keys(ticket_id: int) -> tuple[str, str]:
    # Through the cache's key function, so the deployment's KEY_PREFIX namespaces these too.
    return (
        cache.make_key(f"presence:{ticket_id}:viewing"),
        cache.make_key(f"presence:{ticket_id}:typing"),
    )


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    typing: bool


def heartbeat(ticket_id: int, user: User, *, typing: bool = False) -> list[Presence]:
    """Record that `user` views (and maybe types on) the ticket; return the others present."""
    now = time.time()
    viewing, typing_key = _keys(ticket_id)
    pipe = _redis().pipeline()
    pipe.zadd(viewing, {str(user.pk): now})
    if typing:
        pipe.zadd(typing_key, {str(user.pk): now})
    else:
        pipe.zrem(typing_key, str(user.pk))
    for key in (viewing, typing_key):
        pipe.zremrangebyscore(key, "-inf", now - PRESENCE_TTL)
        pipe.expire(key, PRESENCE_TTL * 3)
    pipe.zrange(viewing, 0, -1)
    pipe.zrange(typing_key, 0, -1)
    *_, viewer_ids, typist_ids = pipe.execute()
    return _people(viewer_ids, typist_ids, exclude=user.pk)


def leave(ticket_id: int, user: User) -> None:
    pipe = _redis().pipeline()
    for key in _keys(ticket_id):
        pipe.zrem(key, str(user.pk))
    pipe.execute()


def present(ticket_id: int, *, exclude: int | None = None) -> list[Presence]:
    now = time.time()
    viewing, typing_key = _keys(ticket_id)
    pipe = _redis().pipeline()
    pipe.zrangebyscore(viewing, now - PRESENCE_TTL, "+inf")
    pipe.zrangebyscore(typing_key, now - PRESENCE_TTL, "+inf")
    viewer_ids, typist_ids = pipe.execute()
    return _people(viewer_ids, typist_ids, exclude=exclude)


def _people(
    viewer_ids: list[bytes], typist_ids: list[bytes], *, exclude: int | None
) -> list[Presence]:
    typing = {int(i) for i in typist_ids}
    ids = {int(i) for i in viewer_ids} - {exclude}
    users = User.objects.filter(pk__in=ids).only(
        "pk", "first_name", "last_name", "email", "username"
    )
    return sorted(
        (Presence(u.pk, u.display_name, u.pk in typing) for u in users), key=lambda p: p.name
    )
