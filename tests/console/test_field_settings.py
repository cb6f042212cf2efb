"""The custom fields settings page: admins list, define, edit, reorder and archive field
definitions through tickets.services.save_definition, each change in the audit log;
the API's create goes through the same service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from tests.conftest import Personas
from tests.console.conftest import signed_in
from tests.tickets.api_client import client_for
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType

pytestmark = pytest.mark.django_db


def define(key: str, **extra: object) -> FieldDefinition:
    values = {"label": key.title(), "type": FieldType.TEXT, "applies_to": AppliesTo.TICKET}
    return services.save_definition(FieldDefinition(key=key, **{**values, **extra}))


def test_an_admin_defines_a_choice_field_with_its_choices(personas: Personas) -> None:
    admin = signed_in(personas.admin)
    response = admin.post(
        reverse("console:field-new"),
        {
            "label": "Plan",
            "key": "plan",
            "type": "choice",
            "applies_to": "ticket",
            "choices": "free\n pro \n\nenterprise",
            "required_to_solve": "on",
        },
    )
    assert response.status_code == 302
    plan = FieldDefinition.objects.get(key="plan")
    assert plan.choices == ["free", "pro", "enterprise"]
    assert plan.required_to_solve and plan.position == 1
    entry = AuditEntry.objects.get(target_type="tickets.fielddefinition")
    assert entry.action == "created" and entry.actor == personas.admin
    assert entry.after["choices"] == ["free", "pro", "enterprise"]
    page = admin.get(reverse("console:fields")).content.decode()
    assert "Plan" in page and "Required to solve" in page


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"type": "choice", "choices": ""}, "choices", "at least one choice"),
        ({"type": "choice", "choices": "a\na"}, "choices", "Each choice once"),
        ({"type": "text", "choices": "a"}, "choices", "Only choice and multichoice"),
        ({"applies_to": "customer", "required_to_solve": "on"}, "required_to_solve", "Only ticket"),
        ({"key": "taken"}, "key", "already is a ticket field"),
        ({"key": "not a slug"}, "key", "valid"),
    ],
)
def test_wrong_definitions_are_explained(personas: Personas, posted, field, message) -> None:
    define("taken")
    data = {"label": "X", "key": "x", "type": "text", "applies_to": "ticket", **posted}
    response = signed_in(personas.admin).post(reverse("console:field-new"), data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert FieldDefinition.objects.count() == 1


def test_editing_keeps_key_and_type_and_records_the_change(personas: Personas) -> None:
    plan = define("plan", type=FieldType.CHOICE, choices=["free"])
    response = signed_in(personas.admin).post(
        reverse("console:field-edit", args=[plan.pk]),
        {"label": "Plan name", "key": "other", "type": "text", "choices": "free\npro"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.label, plan.key, plan.type) == ("Plan name", "plan", "choice")
    assert plan.choices == ["free", "pro"]
    entry = AuditEntry.objects.filter(action="updated").get()
    assert entry.before == {"label": "Plan", "choices": ["free"]}
    with pytest.raises(services.FieldErrors) as refused:
        plan.type = FieldType.TEXT
        services.save_definition(plan)
    assert "type" in refused.value.errors


def test_reorder_and_archive(personas: Personas) -> None:
    first, second, third = define("one"), define("two"), define("three")
    admin = signed_in(personas.admin)
    admin.post(reverse("console:field-move", args=[third.pk]), {"direction": "up"})
    order = list(FieldDefinition.objects.order_by("position").values_list("key", flat=True))
    assert order == ["one", "three", "two"]
    admin.post(reverse("console:field-active", args=[first.pk]), {"active": "0"})
    first.refresh_from_db()
    assert not first.active
    assert list(services.definitions(AppliesTo.TICKET)) == ["three", "two"]
    assert AuditEntry.objects.filter(target_id=str(first.pk), action="updated").exists()
    admin.post(reverse("console:field-active", args=[first.pk]), {"active": "1"})
    assert list(services.definitions(AppliesTo.TICKET)) == ["one", "three", "two"]
    assert second.pk


def test_only_admins_reach_the_pages(personas: Personas) -> None:
    plan = define("plan")
    for user in (personas.manager, personas.agent_a):
        client = signed_in(user)
        assert client.get(reverse("console:fields")).status_code == 403
        response = client.post(reverse("console:field-active", args=[plan.pk]), {"active": "0"})
        assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.active
    assert (
        signed_in(personas.admin).get(reverse("console:field-edit", args=[999])).status_code == 404
    )


def test_the_api_creates_through_the_same_audited_service(personas: Personas) -> None:
    response = client_for(personas.admin).post(
        "/api/v1/fields/",
        {"key": "seats", "label": "Seats", "type": "number", "applies_to": "organization"},
        format="json",
    )
    assert response.status_code == 201
    assert AuditEntry.objects.filter(target_label__startswith="Seats").exists()
