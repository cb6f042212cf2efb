"""tickets.permissions: the four role checks every decorator and API class is built on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.conftest import Personas
from tests.factories import make_user
from tickets.models import Role
from tickets.permissions import (
    is_admin,
    is_agent,
    is_customer,
    is_light_agent,
    is_manager,
    may_act,
)

pytestmark = pytest.mark.django_db
CHECKS = (is_agent, is_manager, is_admin, is_customer)
ACTING = (is_light_agent, may_act)


def _answers(user: object) -> tuple[bool, ...]:
    return tuple(check(user) for check in CHECKS)  # type: ignore[arg-type]


def test_each_role_passes_its_checks(personas: Personas) -> None:
    assert _answers(personas.agent_a) == (True, False, False, False)
    assert _answers(personas.manager) == (True, True, False, False)
    assert _answers(make_user(Role.ADMIN)) == (True, True, True, False)
    assert _answers(personas.customer.user) == (False, False, False, True)
    # A superuser is an admin (and sees everything) whatever role the row says.
    assert _answers(make_user(Role.AGENT, is_superuser=True)) == (True, True, True, False)


def test_a_light_agent_is_staff_who_may_not_act(personas: Personas) -> None:
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a])
    assert _answers(light) == (True, False, False, False)
    assert tuple(check(light) for check in ACTING) == (True, False)
    for user in (personas.agent_a, personas.manager, make_user(Role.ADMIN)):
        assert tuple(check(user) for check in ACTING) == (False, True)
    assert tuple(check(personas.customer.user) for check in ACTING) == (False, False)
    # A superuser is never light, whatever the row says.
    superuser = make_user(Role.LIGHT_AGENT, is_superuser=True)
    assert tuple(check(superuser) for check in ACTING) == (False, True)


def test_nobody_signed_in_or_inactive_passes_any(personas: Personas) -> None:
    assert _answers(None) == (False, False, False, False)
    assert _answers(AnonymousUser()) == (False, False, False, False)
    assert _answers(make_user(Role.ADMIN, is_active=False)) == (False, False, False, False)
    assert _answers(make_user(Role.CUSTOMER, is_active=False)) == (False, False, False, False)
