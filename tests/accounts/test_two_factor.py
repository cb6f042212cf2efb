"""Two-factor sign-in (issue 16, item 3): agents turn it on from their account page (QR
code, one code to confirm, ten recovery codes shown once); sign-in then asks for a code
after the password, five wrong codes make the person wait, a recovery code works once, an
admin can require it per role. Each change is in the audit log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from tests.accounts.conftest import (
    INBOX,
    LOGIN,
    TWO_FACTOR,
    VERIFY,
    sign_in,
    turn_on,
    with_two_factor,
)
from tests.conftest import Personas

pytestmark = pytest.mark.django_db
POLICY = reverse("accounts:policy")


def two_factor_actions(user) -> list[str]:
    rows = AuditEntry.objects.filter(kind=AuditKind.TWO_FACTOR, target_id=str(user.pk))
    return list(rows.order_by("pk").values_list("action", flat=True))


def test_turn_on_then_sign_in_asks_for_a_code(client: Client, personas: Personas) -> None:
    agent = personas.agent_a
    assert sign_in(client, agent.username)["Location"] == INBOX
    setup = client.get(TWO_FACTOR).content.decode()
    assert "<svg" in setup and "Turn on two-factor sign-in" in setup
    wrong = client.post(TWO_FACTOR, {"code": "000000"}).content.decode()
    assert "That code is not right" in wrong

    app, codes = turn_on(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "no-store" in client.get(TWO_FACTOR)["Cache-Control"]
    assert two_factor_actions(agent) == ["enabled"]
    assert "Two-factor sign-in is on" in client.get(TWO_FACTOR).content.decode()
    assert not any(code in client.get(TWO_FACTOR).content.decode() for code in codes)

    client.post(reverse("logout"))
    response = sign_in(client, agent.username)
    assert response.status_code == 302 and response["Location"] == VERIFY
    # The password alone opens nothing.
    assert client.get(INBOX)["Location"].startswith(LOGIN)
    assert "Enter your code" in client.get(VERIFY).content.decode()
    assert not AuditEntry.objects.filter(kind=AuditKind.SIGN_IN, target_id=str(agent.pk))[1:]

    response = client.post(VERIFY, {"code": app.code(1)})
    assert response.status_code == 302 and response["Location"] == INBOX
    assert client.get(INBOX).status_code == 200


def test_a_recovery_code_signs_in_once(client: Client, personas: Personas) -> None:
    agent = personas.agent_a
    _, codes = with_two_factor(client, agent)

    sign_in(client, agent.username)
    assert client.post(VERIFY, {"code": codes[3].upper()})["Location"] == INBOX
    assert client.get(INBOX).status_code == 200
    assert two_factor_actions(agent) == ["enabled", "recovery code used"]
    client.post(reverse("logout"))

    sign_in(client, agent.username)
    again = client.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 200 and "That code is not right" in again.content.decode()
    assert client.post(VERIFY, {"code": codes[4]})["Location"] == INBOX


def test_five_wrong_codes_then_wait(client: Client, personas: Personas) -> None:
    agent = personas.agent_a
    app, codes = with_two_factor(client, agent)

    sign_in(client, agent.username)
    for _ in range(5):
        response = client.post(VERIFY, {"code": "123456"})
        assert response.status_code == 200 and "That code is not right" in response.content.decode()
    refused = client.post(VERIFY, {"code": app.code(1)})
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Signing in again from elsewhere does not start the count again: it is the person's.
    other = Client()
    sign_in(other, agent.username)
    assert other.post(VERIFY, {"code": codes[0]}).status_code == 429
    assert other.get(INBOX)["Location"].startswith(LOGIN)
    # Someone else's second step is untouched.
    colleague = Client()
    colleague.force_login(personas.agent_b)
    assert colleague.get(TWO_FACTOR).status_code == 200


def test_turn_off_with_a_code(client: Client, personas: Personas) -> None:
    agent = personas.agent_a
    client.force_login(agent)
    app, _ = turn_on(client)
    refused = client.post(TWO_FACTOR, {"code": "111111", "action": "disable"})
    assert "That code is not right" in refused.content.decode()
    response = client.post(TWO_FACTOR, {"code": app.code(1), "action": "disable"})
    assert response.status_code == 302
    assert two_factor_actions(agent) == ["enabled", "disabled"]
    client.post(reverse("logout"))
    assert sign_in(client, agent.username)["Location"] == INBOX


def test_admin_requires_it_for_a_role(client: Client, personas: Personas) -> None:
    manager = Client()
    manager.force_login(personas.manager)
    assert manager.post(POLICY, {"roles": ["agent"]}).status_code == 403
    admin = Client()
    admin.force_login(personas.admin)
    assert admin.post(POLICY, {"roles": ["agent"]}).status_code == 302
    form = admin.get(POLICY).content.decode()
    assert 'value="agent" id="id_roles_0" checked' in form
    assert 'value="manager" id="id_roles_1">' in form
    bad = admin.post(POLICY, {"roles": ["owner"]})
    assert bad.status_code == 200 and "not one of the available choices" in bad.content.decode()
    change = AuditEntry.objects.get(kind=AuditKind.SETTINGS, target_type="accounts.signinpolicy")
    assert change.before == {"two_factor_roles": []}
    assert change.after == {"two_factor_roles": ["agent"]}

    # An agent signing in with a password is sent to set it up, and can open nothing else.
    agent = personas.agent_a
    assert sign_in(client, agent.username)["Location"] == INBOX
    inbox = client.get(INBOX)
    assert inbox.status_code == 302 and inbox["Location"].startswith(TWO_FACTOR)
    assert "Your role must use two-factor" in client.get(inbox["Location"]).content.decode()
    assert client.get("/api/v1/tickets/").status_code == 403
    app, codes = turn_on(client)
    assert len(codes) == 10
    assert client.get(INBOX).status_code == 200
    # Required: it cannot be turned off.
    kept = client.post(TWO_FACTOR, {"code": app.code(1), "action": "disable"}).content.decode()
    assert "cannot be turned off" in kept
    assert two_factor_actions(agent) == ["enabled"]

    # A manager (role not ticked) is not asked.
    other = Client()
    assert sign_in(other, personas.manager.username)["Location"] == INBOX
    assert other.get(INBOX).status_code == 200


def test_another_door_still_asks_for_the_code(client: Client, personas: Personas) -> None:
    """The admin's own sign-in page signs in with the password alone: the session then
    opens nothing until the code is given."""
    admin = personas.admin
    app, _ = with_two_factor(client, admin)
    response = client.post(
        reverse("admin:login"), {"username": admin.username, "password": "pass-word-123"}
    )
    assert response.status_code == 302
    page = client.get(INBOX)
    assert page.status_code == 302 and page["Location"].startswith(VERIFY)
    assert client.get("/admin/").status_code == 302
    assert client.post(page["Location"], {"code": app.code(1)})["Location"] == INBOX
    assert client.get(INBOX).status_code == 200
    assert client.get("/admin/").status_code == 200
