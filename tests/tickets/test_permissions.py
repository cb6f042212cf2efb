"""tickets.permissions: the four role checks every decorator and API class is built on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.conftest import Personas
from tests.factories import make_user
from tickets.models import Role
from tickets.permissions import is_admin, is_agent, is_customer, is_manager

pytestmark = pytest.mark.django_db
CHECKS = (is_agent, is_manager, is_admin, is_customer)


def _answers(user: object) -> tuple[bool, ...]:
    return tuple(check(user) for check in CHECKS)  # type: ignore[arg-type]


def test_each_role_passes_its_checks(personas: Personas) -> None:
    assert _answers(personas.agent_a) == (True, False, False, False)
    assert _answers(personas.manager) == (True, True, False, False)
    assert _answers(make_user(Role.ADMIN)) == (True, True, True, False)
    assert _answers(personas.customer.user) == (False, False, False, True)
    # A superuser is an admin (and sees everything) whatever role the row says.
    assert _answers(make_user(Role.AGENT, is_superuser=True)) == (True, True, True, False)


def test_nobody_signed_in_or_inactive_passes_any(personas: Personas) -> None:
    assert _answers(None) == (False, False, False, False)
    assert _answers(AnonymousUser()) == (False, False, False, False)
    assert _answers(make_user(Role.ADMIN, is_active=False)) == (False, False, False, False)
    assert _answers(make_user(Role.CUSTOMER, is_active=False)) == (False, False, False, False)
