"""Health in the API (specs/api.md, "Additions: service"), the at-risk list, My accounts
and the account owner, with what each agent may see."""

from __future__ import annotations

import re

from rest_framework.test import APIClient

from service.models import AccountHealth
from tests.factories import make_customer
from tickets import services
from tickets.models import FieldDefinition, Organization

FACTORS = [
    {"name": "ticket_volume", "label": "Ticket volume", "points": -12.5, "detail": "5 tickets"},
    {"name": "csat", "label": "Latest CSAT", "points": 0.0, "detail": "none"},
]


def _world(personas):
    acme = Organization.objects.create(name="Acme", fields={"plan": "pro"})
    globex = Organization.objects.create(name="Globex", success_contact=personas.agent_a)
    a_customer = make_customer("ops@acme.test", organization=acme)
    b_customer = make_customer("it@globex.test", organization=globex)
    services.create_ticket(
        mailbox=personas.mailbox_a, customer=a_customer, subject="a", body_text="a"
    )
    services.create_ticket(
        mailbox=personas.mailbox_b, customer=b_customer, subject="b", body_text="b"
    )
    AccountHealth.objects.create(organization=acme, score=30, factors=FACTORS)
    AccountHealth.objects.create(organization=globex, score=45, factors=FACTORS)
    AccountHealth.objects.create(customer=a_customer, score=68, factors=FACTORS)
    return acme, globex, a_customer, b_customer


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_customer_and_organization_carry_health(personas) -> None:
    acme, globex, a_customer, b_customer = _world(personas)
    body = _api(personas.manager).get(f"/api/v1/customers/{a_customer.pk}/").json()
    assert body["health"]["score"] == 68
    assert body["health"]["factors"] == [
        {"name": "ticket_volume", "points": -12.5},
        {"name": "csat", "points": 0.0},
    ]
    assert "computed_at" in body["health"]
    assert (
        _api(personas.manager).get(f"/api/v1/customers/{b_customer.pk}/").json()["health"] is None
    )
    org = _api(personas.manager).get(f"/api/v1/organizations/{acme.pk}/").json()
    assert (org["name"], org["health"]["score"], org["fields"]) == ("Acme", 30, {"plan": "pro"})
    assert _api(personas.manager).get(f"/api/v1/organizations/{globex.pk}/").json()["owner"] == (
        "agent.a@staff.test"
    )


def test_organizations_by_health_lowest_first(personas, django_assert_num_queries) -> None:
    _acme, _globex, *_ = _world(personas)
    unmeasured = Organization.objects.create(name="Aardvark")
    make_customer("x@aardvark.test", organization=unmeasured)
    client = _api(personas.manager)
    # Queries: the user's token/session, the page of organizations with their health, their domains.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/organizations/", {"ordering": "health"})
    assert [o["name"] for o in response.json()["results"]] == ["Acme", "Globex", "Aardvark"]
    assert [o["name"] for o in client.get("/api/v1/organizations/").json()["results"]] == [
        "Aardvark",
        "Acme",
        "Globex",
    ]
    assert client.get("/api/v1/organizations/", {"ordering": "score"}).status_code == 400


def test_agents_see_only_accounts_with_tickets_they_may_open(personas) -> None:
    _acme, globex, _a_customer, b_customer = _world(personas)
    agent_a = _api(personas.agent_a)
    names = [
        o["name"]
        for o in agent_a.get("/api/v1/organizations/", {"ordering": "health"}).json()["results"]
    ]
    assert names == ["Acme"]
    assert agent_a.get(f"/api/v1/organizations/{globex.pk}/").status_code == 404
    assert agent_a.get(f"/api/v1/customers/{b_customer.pk}/").status_code == 404
    customer = APIClient()
    customer.force_authenticate(personas.customer.user)
    assert customer.get("/api/v1/organizations/").status_code == 403


def _listed(response) -> list[str]:
    return re.findall(
        r'<th scope="row"><a href="/[a-z]+/\d+/">([^<]+)</a>', response.content.decode()
    )


def test_at_risk_list_filters_and_visibility(personas, client) -> None:
    _acme, _globex, *_ = _world(personas)
    client.force_login(personas.manager)
    assert _listed(client.get("/accounts/at-risk/")) == ["Acme", "Globex"]  # 68 is not at risk
    assert _listed(client.get("/accounts/at-risk/", {"team": personas.team_b.pk})) == ["Globex"]
    assert _listed(client.get("/accounts/at-risk/", {"organization": "acme"})) == ["Acme"]
    unknown = client.get("/accounts/at-risk/", {"organization": "Initech"})
    assert "No organization is named “Initech”." in unknown.content.decode()
    assert _listed(client.get("/accounts/at-risk/", {"below": 70})) == [
        "Acme",
        "Globex",
        "ops@acme.test",
    ]
    FieldDefinition.objects.create(key="plan", label="Plan", type="text", applies_to="organization")
    assert _listed(client.get("/accounts/at-risk/", {"field": "plan", "value": "PRO"})) == ["Acme"]
    client.force_login(personas.agent_a)
    assert _listed(client.get("/accounts/at-risk/")) == ["Acme"]


def test_owner_set_on_the_organization_page_and_my_accounts(personas, client) -> None:
    acme, _globex, *_ = _world(personas)
    client.force_login(personas.agent_a)
    response = client.post(
        f"/organizations/{acme.pk}/",
        {"name": "Acme", "domains": "", "notes": "", "owner": personas.agent_a.pk},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.success_contact == personas.agent_a
    assert _listed(client.get("/accounts/mine/")) == ["Acme", "Globex"]  # 30 before 45
    refused = client.post(
        f"/organizations/{acme.pk}/",
        {"name": "Acme", "domains": "", "notes": "", "owner": personas.customer.user.pk},
    )
    assert refused.status_code == 422
    client.force_login(personas.agent_b)
    assert "You own no organization yet" in client.get("/accounts/mine/").content.decode()


def test_organization_page_shows_health_and_factors(personas, client) -> None:
    acme, *_ = _world(personas)
    client.force_login(personas.agent_a)
    page = client.get(f"/organizations/{acme.pk}/").content.decode()
    assert 'id="account-health"' in page
    assert "Ticket volume" in page and "-12.5" in page
