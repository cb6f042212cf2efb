"""Presence in Redis: who views a ticket and who types, expiring on its own."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Personas
from tickets import presence

pytestmark = pytest.mark.django_db


def test_heartbeats_show_others_and_typing(personas: Personas) -> None:
    assert presence.heartbeat(7, personas.agent_a) == []
    others = presence.heartbeat(7, personas.agent_b, typing=True)
    assert [(p.name, p.typing) for p in others or []] == [("Ana", False)]
    seen_by_a = presence.heartbeat(7, personas.agent_a)
    assert [(p.user_id, p.typing) for p in seen_by_a or []] == [(personas.agent_b.pk, True)]
    presence.heartbeat(7, personas.agent_b, typing=False)
    assert [p.typing for p in presence.present(7, exclude=personas.agent_a.pk) or []] == [False]
    presence.leave(7, personas.agent_b)
    assert presence.present(7, exclude=personas.agent_a.pk) == []
    assert presence.present(8) == []


def test_stale_heartbeats_expire(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    presence.heartbeat(9, personas.agent_b, typing=True)
    later = time.time() + presence.PRESENCE_TTL + 1
    monkeypatch.setattr(presence.time, "time", lambda: later)
    assert presence.heartbeat(9, personas.agent_a) == []
