"""Who is looking at a ticket, and who is typing a reply, shared by every web process.

State lives in Redis (not process memory) so agents served by different web processes
see each other. Each ticket has two sorted sets, member = user id, score = last heartbeat
time; entries older than PRESENCE_TTL seconds no longer count, and the keys themselves
expire, so a closed browser tab disappears on its own.

While Redis is unreachable nobody's presence can be told: `heartbeat` and `present`
answer None and the panel says so, rather than "only you" (which could be untrue). The
ticket page still warns of messages others added since it was opened (from the
database, tickets/workflow/views.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from helpdesk.cache import UNREACHABLE, unavailable, writer
from tickets.models import User

PRESENCE_TTL = 20  # seconds; the ticket page polls every 5


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


def heartbeat(ticket_id: int, user: User, *, typing: bool = False) -> list[Presence] | None:
    """Record that `user` views (and maybe types on) the ticket; return the others present
    (None: unknown, Redis is unreachable)."""
    now = time.time()
    viewing, typing_key = _keys(ticket_id)
    pipe = writer().pipeline()
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
    try:
        *_, viewer_ids, typist_ids = pipe.execute()
    except UNREACHABLE:
        unavailable("presence not recorded")
        return None
    return _people(viewer_ids, typist_ids, exclude=user.pk)


def leave(ticket_id: int, user: User) -> None:
    pipe = writer().pipeline()
    for key in _keys(ticket_id):
        pipe.zrem(key, str(user.pk))
    try:
        pipe.execute()
    except UNREACHABLE:
        unavailable("presence not recorded")  # the entry expires on its own


def present(ticket_id: int, *, exclude: int | None = None) -> list[Presence] | None:
    now = time.time()
    viewing, typing_key = _keys(ticket_id)
    pipe = writer().pipeline()
    pipe.zrangebyscore(viewing, now - PRESENCE_TTL, "+inf")
    pipe.zrangebyscore(typing_key, now - PRESENCE_TTL, "+inf")
    try:
        viewer_ids, typist_ids = pipe.execute()
    except UNREACHABLE:
        unavailable("presence not read")
        return None
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
