"""GET/PATCH /api/v1/organizations/: organizations with their custom fields (specs/api.md,
"Custom fields"), changed through services.set_fields; an agent sees the organizations of
the customers whose tickets they may see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Organization, OrganizationDomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(personas: Personas) -> Organization:
    for key, kind, choices in (
        ("tier", FieldType.CHOICE, ["gold", "silver"]),
        ("seats", FieldType.NUMBER, []),
    ):
        services.save_definition(
            FieldDefinition(
                key=key,
                label=key.title(),
                type=kind,
                applies_to=AppliesTo.ORGANIZATION,
                choices=choices,
            )
        )
    acme = Organization.objects.create(name="Acme", fields={"tier": "gold"})
    OrganizationDomain.objects.create(organization=acme, domain="acme.test")
    personas.customer.organization = acme
    personas.customer.save(update_fields=["organization"])
    make_ticket(personas.mailbox_a, personas.customer)
    return acme


def test_list_and_retrieve_show_the_fields(personas: Personas, acme: Organization) -> None:
    other = Organization.objects.create(name="Globex")
    make_ticket(personas.mailbox_b, make_customer("x@globex.test", organization=other))
    agent = client_for(personas.agent_a)
    listed = agent.get("/api/v1/organizations/")
    assert listed.status_code == 200
    assert listed.json()["results"] == [
        {
            "id": acme.pk,
            "name": "Acme",
            "notes": "",
            "shares_tickets": False,
            "owner": None,
            "domains": ["acme.test"],
            "fields": {"tier": "gold"},
            "health": None,
        }
    ]
    assert agent.get(f"/api/v1/organizations/{other.pk}/").status_code == 404
    everyone = client_for(personas.manager).get("/api/v1/organizations/").json()["results"]
    assert [o["name"] for o in everyone] == ["Acme", "Globex"]
    found = client_for(personas.manager).get("/api/v1/organizations/?q=acme.te").json()["results"]
    assert [o["name"] for o in found] == ["Acme"]


def test_the_list_reads_a_fixed_number_of_queries(personas: Personas, acme: Organization) -> None:
    manager = client_for(personas.manager)
    manager.get("/api/v1/organizations/")
    with CaptureQueriesContext(connection) as one:
        manager.get("/api/v1/organizations/")
    for n in range(5):
        org = Organization.objects.create(name=f"Org {n}")
        OrganizationDomain.objects.create(organization=org, domain=f"org{n}.test")
    with CaptureQueriesContext(connection) as six:
        assert len(manager.get("/api/v1/organizations/").json()["results"]) == 6
    assert len(six) == len(one)


def test_patch_changes_only_the_named_keys(personas: Personas, acme: Organization) -> None:
    agent = client_for(personas.agent_a)
    response = agent.patch(
        f"/api/v1/organizations/{acme.pk}/", {"fields": {"seats": "12"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["fields"] == {"tier": "gold", "seats": 12}
    acme.refresh_from_db()
    assert acme.fields == {"tier": "gold", "seats": 12}
    cleared = agent.patch(
        f"/api/v1/organizations/{acme.pk}/", {"fields": {"tier": None}}, format="json"
    )
    assert cleared.json()["fields"] == {"seats": 12}


def test_wrong_values_answer_400_by_key(personas: Personas, acme: Organization) -> None:
    agent = client_for(personas.agent_a)
    url = f"/api/v1/organizations/{acme.pk}/"
    errors = assert_error_shape(
        agent.patch(url, {"fields": {"tier": "bronze", "nope": 1}}, format="json"), 400
    )["errors"]
    assert set(errors["fields"]) == {"tier", "nope"}
    assert_error_shape(agent.patch(url, {"name": "Evil"}, format="json"), 400)
    acme.refresh_from_db()
    assert acme.fields == {"tier": "gold"} and acme.name == "Acme"


def test_customers_and_strangers_are_refused(personas: Personas, acme: Organization) -> None:
    assert client_for(personas.customer.user).get("/api/v1/organizations/").status_code == 403
    assert client_for(None).get("/api/v1/organizations/").status_code in (401, 403)
    assert (
        client_for(personas.agent_a).put(f"/api/v1/organizations/{acme.pk}/", {}).status_code == 405
    )
