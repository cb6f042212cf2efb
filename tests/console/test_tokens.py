"""API tokens of the settings area: named, scoped, last used, revoked, in the audit log."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry, AuditKind
from console.models import ApiToken
from tests.conftest import Personas
from tests.console.conftest import signed_in

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"
NEW_TICKET = {
    "subject": "From a script",
    "body": "Hello.",
    "customer": "script@example.test",
    "mailbox": "a@tandem.test",
}


def create(client: Client, name: str, scope: str) -> str:
    response = client.post(reverse("console:tokens"), {"name": name, "scope": scope})
    assert response.status_code == 200
    key = re.search(r"<code>(tdm_[^<]+)</code>", response.content.decode())
    assert key is not None
    return key.group(1)


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_read_only_token_reads_and_is_refused_writes(personas: Personas) -> None:
    page = signed_in(personas.agent_a)
    key = create(page, "Dashboard", "read")
    token = ApiToken.objects.get(name="Dashboard")
    assert token.user == personas.agent_a and token.key_hash != key
    assert token.last_used_at is None
    assert api(key).get(TICKETS).status_code == 200
    refused = api(key).post(TICKETS, NEW_TICKET, format="json")
    assert refused.status_code == 403
    token.refresh_from_db()
    assert token.last_used_at is not None
    # The list shows it, never the key again.
    listing = page.get(reverse("console:tokens")).content.decode()
    assert "Dashboard" in listing and key not in listing and "Read only" in listing


def test_read_write_token_writes_and_revoked_tokens_stop(personas: Personas) -> None:
    page = signed_in(personas.agent_a)
    key = create(page, "CRM sync", "write")
    assert api(key).post(TICKETS, NEW_TICKET, format="json").status_code == 201
    token = ApiToken.objects.get(name="CRM sync")
    assert page.post(reverse("console:token-revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api(key).get(TICKETS).status_code == 401
    created = AuditEntry.objects.get(kind=AuditKind.TOKEN_CREATED)
    revoked = AuditEntry.objects.get(kind=AuditKind.TOKEN_REVOKED)
    assert created.data["name"] == revoked.data["name"] == "CRM sync"
    assert key not in str(created.data) and key not in str(revoked.data)
    assert created.actor == personas.agent_a


def test_tokens_are_per_user_and_admins_may_revoke_any(personas: Personas) -> None:
    create(signed_in(personas.agent_a), "Agent A script", "read")
    token = ApiToken.objects.get(name="Agent A script")
    other = signed_in(personas.agent_b)
    assert "Agent A script" not in other.get(reverse("console:tokens")).content.decode()
    assert other.post(reverse("console:token-revoke", args=[token.pk])).status_code == 404
    admin = signed_in(personas.admin)
    assert "Agent A script" in admin.get(reverse("console:tokens")).content.decode()
    assert admin.post(reverse("console:token-revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_of_a_deactivated_agent_stops_working(personas: Personas) -> None:
    key = create(signed_in(personas.agent_b), "Nightly", "read")
    personas.agent_b.is_active = False
    personas.agent_b.save(update_fields=["is_active"])
    assert api(key).get(TICKETS).status_code == 401


def test_token_form_says_what_is_wrong_and_drf_tokens_still_work(personas: Personas) -> None:
    page = signed_in(personas.agent_a)
    bad = page.post(reverse("console:tokens"), {"name": "", "scope": "admin"})
    assert bad.status_code == 422
    assert "This field is required." in bad.content.decode()
    assert "Select a valid choice." in bad.content.decode()
    assert not ApiToken.objects.exists()
    assert api("tdm_made-up").get(TICKETS).status_code == 401
    legacy = Token.objects.create(user=personas.agent_a)
    assert api(legacy.key).get(TICKETS).status_code == 200
