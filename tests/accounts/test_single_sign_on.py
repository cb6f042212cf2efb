"""Single sign-on for agents (issue 16, item 4), end to end against a real OpenID Connect
provider started on 127.0.0.1 (tests/accounts/oidc_provider.py): the sign-in button, an
agent account made on the spot for an allowed domain and refused for another, teams from
the `groups` claim, and password sign-in turned off for agents while the portal keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from tests.accounts.conftest import INBOX, LOGIN, PASSWORD, sign_in, with_two_factor
from tests.accounts.oidc_provider import Provider
from tests.conftest import Personas
from tickets.models import Role, Team, User

pytestmark = pytest.mark.django_db
START = reverse("oidc_authentication_init")
CALLBACK = "http://testserver" + reverse("oidc_authentication_callback")


@pytest.fixture
def provider(settings: Any) -> Iterator[Provider]:
    provider = Provider(redirect_uri=CALLBACK).start()
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    settings.OIDC_ALLOWED_DOMAINS = ["staff.test", "Example.ORG"]
    settings.OIDC_GROUP_TEAMS = {"support-a": "Team A", "support-b": "Team B"}
    yield provider
    provider.stop()


def person(email: str, groups: list[str] | None = None, **claims: Any) -> dict[str, Any]:
    return {
        "sub": f"id-{email}",
        "email": email,
        "email_verified": True,
        "given_name": "Noor",
        "family_name": "Haddad",
        "groups": groups or [],
        **claims,
    }


def sign_in_with_provider(client: Client, provider: Provider, who: dict[str, Any]):
    """The browser's trip: Tandem -> the provider (which approves `who`) -> Tandem."""
    provider.person = who
    to_provider = client.get(START, {"next": "/search/"})
    assert to_provider.status_code == 302
    assert to_provider["Location"].startswith(f"{provider.issuer}/authorize?")
    approved = requests.get(to_provider["Location"], allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def team_names(user: User) -> list[str]:
    return sorted(user.teams.values_list("name", flat=True))


def test_new_agent_from_an_allowed_domain_with_teams_from_groups(
    client: Client, personas: Personas, provider: Provider
) -> None:
    page = client.get(LOGIN).content.decode()
    assert "Sign in with single sign-on" in page and 'name="password"' in page

    who = person("Noor.Haddad@staff.test", ["support-a", "everyone"])
    response = sign_in_with_provider(client, provider, who)
    assert response.status_code == 302 and response["Location"] == "/search/"
    assert client.get(INBOX).status_code == 200

    noor = User.objects.get(email="noor.haddad@staff.test")
    assert noor.role == Role.AGENT and noor.get_full_name() == "Noor Haddad"
    assert not noor.has_usable_password()
    assert team_names(noor) == ["Team A"]
    created = AuditEntry.objects.get(kind=AuditKind.ROLE, target_id=str(noor.pk))
    assert created.action == "created by single sign-on"
    assert AuditEntry.objects.filter(kind=AuditKind.SIGN_IN, target_id=str(noor.pk)).exists()

    # Next time the claim says another group: the mapped teams follow, others stay.
    Team.objects.create(name="Night shift").members.add(noor)
    client.post(reverse("logout"))
    sign_in_with_provider(client, provider, person("noor.haddad@staff.test", ["support-b"]))
    assert client.get(INBOX).status_code == 200
    assert User.objects.filter(email__iexact="noor.haddad@staff.test").count() == 1
    assert team_names(noor) == ["Night shift", "Team B"]
    moves = AuditEntry.objects.filter(kind=AuditKind.TEAMS, target_id=str(noor.pk))
    assert moves.order_by("pk").last().after == {"teams": ["Night shift", "Team B"]}


def test_another_domain_is_refused(client: Client, personas: Personas, provider: Provider) -> None:
    response = sign_in_with_provider(client, provider, person("eve@elsewhere.test", ["support-a"]))
    assert response.status_code == 302 and response["Location"] == LOGIN
    page = client.get(LOGIN).content.decode()
    assert "Single sign-on is not open to addresses at elsewhere.test." in page
    assert not User.objects.filter(email="eve@elsewhere.test").exists()
    assert client.get(INBOX)["Location"].startswith(LOGIN)
    # An address that looks allowed but is not at the domain.
    sign_in_with_provider(client, provider, person("eve@staff.test.evil.test"))
    assert not User.objects.filter(email__startswith="eve@").exists()
    # An address the provider has not verified.
    sign_in_with_provider(client, provider, person("new@staff.test", email_verified=False))
    assert not User.objects.filter(email="new@staff.test").exists()


def test_known_agent_customer_and_deactivated(
    client: Client, personas: Personas, provider: Provider
) -> None:
    agent = personas.agent_a
    sign_in_with_provider(client, provider, person(agent.email.upper(), ["support-b"]))
    assert client.get(INBOX).status_code == 200
    assert team_names(agent) == ["Team B"]  # the claim moved them from Team A
    client.post(reverse("logout"))

    # A customer's address at an allowed domain does not become an agent.
    customer = User.objects.create_user("kim@example.org", "kim@example.org", role=Role.CUSTOMER)
    sign_in_with_provider(client, provider, person("kim@example.org"))
    assert "This address has a customer account" in client.get(LOGIN).content.decode()
    customer.refresh_from_db()
    assert customer.role == Role.CUSTOMER
    assert client.get(INBOX)["Location"].startswith(LOGIN)

    User.objects.filter(pk=personas.agent_b.pk).update(is_active=False)
    sign_in_with_provider(client, provider, person(personas.agent_b.email))
    assert "Your account is deactivated" in client.get(LOGIN).content.decode()
    assert client.get(INBOX)["Location"].startswith(LOGIN)


def test_a_token_the_provider_did_not_sign_is_refused(
    client: Client, personas: Personas, provider: Provider
) -> None:
    provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = sign_in_with_provider(client, provider, person("new@staff.test"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "Single sign-on failed" in client.get(LOGIN).content.decode()
    assert not User.objects.filter(email="new@staff.test").exists()

    provider.signing_key = provider.key
    provider.audience = "another-client"
    sign_in_with_provider(client, provider, person("new@staff.test"))
    assert not User.objects.filter(email="new@staff.test").exists()
    assert client.get(INBOX)["Location"].startswith(LOGIN)


def test_password_sign_in_off_for_agents(
    client: Client, personas: Personas, provider: Provider, settings: Any
) -> None:
    earlier = Client()
    sign_in(earlier, personas.agent_b.username)
    assert earlier.get(INBOX).status_code == 200
    settings.AGENT_PASSWORD_SIGN_IN = False

    page = client.get(LOGIN).content.decode()
    assert "Agents sign in with single sign-on" in page
    refused = sign_in(client, personas.agent_a.username)
    assert refused.status_code == 200
    assert "Agents sign in with single sign-on." in refused.content.decode()
    assert client.get(INBOX)["Location"].startswith(LOGIN)
    wrong = sign_in(client, personas.agent_a.username, "not-the-password")
    assert "Please enter a correct" in wrong.content.decode()
    assert "Agents sign in with single sign-on." not in wrong.content.decode()
    # A password session that began before is over.
    assert earlier.get(INBOX)["Location"].startswith(LOGIN)

    # Single sign-on still signs the agent in.
    sign_in_with_provider(client, provider, person(personas.agent_a.email, ["support-a"]))
    assert client.get(INBOX).status_code == 200

    # The portal's customers keep their passwords; a superuser keeps the way in.
    portal = Client()
    response = portal.post(
        reverse("portal:sign_in"),
        {"method": "password", "pw-email": personas.customer.email, "pw-password": PASSWORD},
    )
    assert response.status_code == 302
    assert portal.get(reverse("portal:requests")).status_code == 200
    admin = Client()
    assert sign_in(admin, personas.admin.username)["Location"] == INBOX


def test_single_sign_on_skips_tandems_own_second_step(
    client: Client, personas: Personas, provider: Provider
) -> None:
    with_two_factor(client, personas.agent_a)
    sign_in_with_provider(client, provider, person(personas.agent_a.email))
    assert client.get(INBOX).status_code == 200


def test_not_configured_no_button(client: Client, personas: Personas) -> None:
    assert "Sign in with" not in client.get(LOGIN).content.decode()
    assert client.get(START).status_code == 404
    callback = client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"})
    assert callback.status_code == 302 and callback["Location"] == LOGIN
