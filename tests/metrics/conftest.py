from __future__ import annotations

import pytest

from tests.conftest import Personas


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Personas hash five passwords per test; PBKDF2's real cost is not what is tested here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def personas(personas: Personas) -> Personas:
    """The shared personas, with both agents working in both mailboxes: the histories
    here hand tickets of either mailbox to either agent, and only someone who may open a
    ticket may hold it."""
    personas.mailbox_a.teams.add(personas.team_b)
    personas.mailbox_b.teams.add(personas.team_a)
    return personas
