"""Failed sign-ins (issue 14, finding 5): counted by django-axes per normalised identity
and client address, so no spelling gets a fresh counter, brute force from one place is
stopped, and nobody elsewhere can lock a person out.

Client addresses are from the documentation ranges (RFC 5737): only a header value of a
test request, no traffic goes anywhere.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client
from django.urls import reverse

from helpdesk.signin import identity
from tests.conftest import Personas
from tests.factories import make_user
from tickets.models import Role

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")
PORTAL = reverse("portal:sign_in")
PASSWORD = "pass-word-123"
ATTACKER, ELSEWHERE = "203.0.113.7", "198.51.100.20"


def fullwidth(text: str) -> str:
    """The same address in fullwidth capitals (U+FF01-U+FF5E): another spelling of it."""
    return "".join(chr(ord(c) - 0x20 + 0xFF00) if "!" <= c <= "~" else c for c in text.upper())


def sign_in(ip: str, username: str, password: str) -> tuple[Client, int, str]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password})
    return client, response.status_code, response.content.decode()


def portal_sign_in(ip: str, email: str, password: str) -> tuple[int, str]:
    data = {"method": "password", "pw-email": email, "pw-password": password}
    response = Client(REMOTE_ADDR=ip).post(PORTAL, data)
    return response.status_code, response.content.decode()


def test_identity_folds_width_case_and_spaces() -> None:
    assert identity(f"  {fullwidth('agent.a@staff.test')} ") == "agent.a@staff.test"
    assert identity("Ana.Straße@Staff.TEST") == "ana.strasse@staff.test"


def test_any_spelling_of_a_name_signs_in_and_counts_as_that_name(personas: Personas) -> None:
    email = personas.agent_a.email
    client, status, _ = sign_in(ELSEWHERE, fullwidth(email), PASSWORD)
    assert status == 302
    assert client.session["_auth_user_id"] == str(personas.agent_a.pk)
    # Five failures in each of two spellings are ten failures of one identity.
    for spelling in (email, fullwidth(email)) * 5:
        sign_in(ATTACKER, spelling, "wrong")
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {email}
    _, status, page = sign_in(ATTACKER, email.upper(), PASSWORD)
    assert status == 429
    assert "Too many attempts. Try again in 15 minutes." in page


def test_the_right_password_from_elsewhere_works_after_ten_failures(
    personas: Personas,
) -> None:
    email = personas.agent_a.email
    statuses = [sign_in(ATTACKER, email, f"guess-{n}")[1] for n in range(10)]
    assert statuses == [200] * 9 + [429]
    client, status, _ = sign_in(ELSEWHERE, email, PASSWORD)
    assert status == 302
    assert client.session["_auth_user_id"] == str(personas.agent_a.pk)


def test_brute_force_from_one_place_is_stopped_until_the_cool_off(personas: Personas) -> None:
    email = personas.agent_a.email
    for n in range(10):
        sign_in(ATTACKER, email, f"guess-{n}")
    # From there, even the right password is refused now, with when to come back.
    client = Client(REMOTE_ADDR=ATTACKER)
    response = client.post(LOGIN, {"username": email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts. Try again in 15 minutes." in response.content.decode()
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session
    # Another person signing in from the same place is not held up by it.
    assert sign_in(ATTACKER, personas.agent_b.email, PASSWORD)[1] == 302
    # Once 15 minutes have passed since the last failure, the pair may sign in again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert sign_in(ATTACKER, email, PASSWORD)[1] == 302


def test_one_address_guessing_many_accounts_is_stopped(personas: Personas) -> None:
    victims = [make_user(Role.AGENT) for _ in range(10)]
    statuses = [
        sign_in(ATTACKER, victim.email, f"guess-{n}")[1] for victim in victims for n in range(5)
    ]
    # The 50th failure from one address refuses it for every account...
    assert statuses == [200] * 49 + [429]
    _, status, page = sign_in(ATTACKER, personas.agent_b.email, PASSWORD)
    assert status == 429
    assert "Too many attempts" in page
    # ... and the accounts themselves are not locked for anyone else.
    assert sign_in(ELSEWHERE, victims[0].email, PASSWORD)[1] == 302


def test_the_admin_sign_in_is_counted_too(personas: Personas) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    data = {"username": personas.admin.email, "password": "wrong", "next": "/admin/"}
    statuses = [client.post("/admin/login/", data).status_code for _ in range(10)]
    assert statuses == [200] * 9 + [429]
    response = client.post("/admin/login/", {**data, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts. Try again in 15 minutes." in response.content.decode()
    assert (
        Client(REMOTE_ADDR=ELSEWHERE)
        .post("/admin/login/", {**data, "password": PASSWORD})
        .status_code
        == 302
    )


def test_portal_password_failures_lock_only_the_identity_and_address(
    personas: Personas,
) -> None:
    user = personas.customer.user
    user.set_password("a-long-secret-9")
    user.save()
    email = personas.customer.email
    statuses = [
        portal_sign_in(ATTACKER, spelling, "wrong")[0] for spelling in (email, fullwidth(email)) * 5
    ]
    assert statuses == [400] * 9 + [429]
    status, page = portal_sign_in(ATTACKER, email, "a-long-secret-9")
    assert status == 429
    assert "Too many attempts. Try again in 15 minutes." in page
    # The customer, wherever else they are, still signs in.
    assert portal_sign_in(ELSEWHERE, fullwidth(email), "a-long-secret-9")[0] == 302


def test_link_requests_from_elsewhere_do_not_keep_the_customer_out(
    personas: Personas, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    email = personas.customer.email

    def ask(ip: str, spelling: str) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            data = {"method": "link", "email": spelling}
            return Client(REMOTE_ADDR=ip).post(PORTAL, data).status_code

    # Another spelling is the same address: five links, then this place is refused.
    statuses = [ask(ATTACKER, spelling) for spelling in (email, fullwidth(email)) * 3]
    assert statuses == [302] * 5 + [429]
    assert len(mailoutbox) == 5
    # The customer asking from elsewhere gets a link.
    assert ask(ELSEWHERE, email) == 302
    assert len(mailoutbox) == 6
    assert mailoutbox[-1].to == [email]


def test_many_places_asking_for_one_address_cannot_flood_it(
    personas: Personas, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    email = personas.customer.email
    for n in range(25):
        with django_capture_on_commit_callbacks(execute=True):
            client = Client(REMOTE_ADDR=f"203.0.113.{n + 10}")
            response = client.post(PORTAL, {"method": "link", "email": email})
        assert response.status_code == 302  # answered as usual
    # At most 20 mails per link lifetime; the newest of them still signs in.
    assert len(mailoutbox) == 20
