"""Request forms (issue #17): an admin defines forms with their own ticket fields, kind,
team and mailbox (portal.request_forms, audited); a customer picks one in the portal and
the ticket is created through tickets.services.create_ticket with those fields, routed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from portal.models import RequestForm
from tests.conftest import Personas
from tests.console.conftest import signed_in
from tickets import services
from tickets.models import AppliesTo, Channel, FieldDefinition, FieldType, Kind, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(personas: Personas) -> RequestForm:
    for key, kind, choices in (
        ("order_number", FieldType.TEXT, []),
        ("plan", FieldType.CHOICE, ["free", "pro"]),
        ("internal_note", FieldType.TEXT, []),
    ):
        services.save_definition(
            FieldDefinition(
                key=key, label=key.title(), type=kind, applies_to=AppliesTo.TICKET, choices=choices
            )
        )
    form = RequestForm(
        name="Billing question",
        description="Invoices, refunds, plans",
        fields=["order_number", "plan"],
        required=["order_number"],
        kind=Kind.SERVICE,
        team=personas.team_b,
        mailbox=personas.mailbox_b,
    )
    from portal.request_forms import save_request_form

    return save_request_form(form)


@pytest.fixture
def li(client: Client, personas: Personas) -> Client:
    client.force_login(personas.customer.user)
    return client


def test_the_customer_picks_a_form_and_the_ticket_is_routed_with_its_fields(
    li: Client, personas: Personas, billing: RequestForm
) -> None:
    picker = li.get(reverse("portal:new_request"))
    assert picker.status_code == 200
    page = picker.content.decode()
    assert "Billing question" in page and "Something else" in page
    url = reverse("portal:new_request_form", args=[billing.pk])
    form_page = li.get(url).content.decode()
    assert 'name="field_order_number"' in form_page and 'name="field_plan"' in form_page
    assert "field_internal_note" not in form_page
    response = li.post(
        url,
        {
            "subject": "Refund please",
            "description": "Charged twice.",
            "field_order_number": " A-1001 ",
            "field_plan": "pro",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.fields == {"order_number": "A-1001", "plan": "pro"}
    assert (ticket.team, ticket.mailbox, ticket.kind) == (
        personas.team_b,
        personas.mailbox_b,
        Kind.SERVICE,
    )
    assert ticket.channel == Channel.PORTAL
    assert ticket.customer == personas.customer


def test_required_and_wrong_values_are_explained_and_open_nothing(
    li: Client, billing: RequestForm
) -> None:
    url = reverse("portal:new_request_form", args=[billing.pk])
    missing = li.post(url, {"subject": "Refund", "description": "Twice.", "field_plan": "pro"})
    assert missing.status_code == 400
    assert "field_order_number" in missing.context["form"].errors
    wrong = li.post(
        url,
        {
            "subject": "Refund",
            "description": "Twice.",
            "field_order_number": "1",
            "field_plan": "x",
        },
    )
    assert wrong.status_code == 400
    assert "field_plan" in wrong.context["form"].errors
    assert not Ticket.objects.exists()


def test_the_service_refuses_fields_the_form_does_not_ask(
    personas: Personas, billing: RequestForm
) -> None:
    from portal.services import file_request

    with pytest.raises(services.FieldErrors) as refused:
        file_request(
            personas.customer.user,
            personas.customer,
            subject="Refund",
            description="Twice.",
            request_form=billing,
            fields={"order_number": "A-1", "internal_note": "sneaky"},
        )
    assert list(refused.value.errors) == ["internal_note"]
    assert not Ticket.objects.exists()


def test_without_forms_the_general_form_is_shown_and_an_archived_form_is_404(
    li: Client, billing: RequestForm
) -> None:
    billing.active = False
    billing.save()
    page = li.get(reverse("portal:new_request")).content.decode()
    assert 'name="subject"' in page
    assert li.get(reverse("portal:new_request_form", args=[billing.pk])).status_code == 404


def test_an_admin_defines_a_form_on_the_settings_page(personas: Personas, billing) -> None:
    admin = signed_in(personas.admin)
    response = admin.post(
        reverse("portal_settings:form-new"),
        {
            "name": "Bug report",
            "description": "Something broken",
            "kind": "support",
            "team": personas.team_a.pk,
            "mailbox": personas.mailbox_a.pk,
            "fields": ["plan"],
            "required": ["plan"],
        },
    )
    assert response.status_code == 302
    bug = RequestForm.objects.get(name="Bug report")
    assert (bug.fields, bug.required, bug.team) == (["plan"], ["plan"], personas.team_a)
    assert (
        AuditEntry.objects.filter(target_type="portal.requestform", action="created").count() == 2
    )
    assert "Bug report" in admin.get(reverse("portal_settings:forms")).content.decode()


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"team": "b", "mailbox": "a"}, "team", "does not work in the form's mailbox"),
        ({"fields": ["plan"], "required": ["order_number"]}, "required", "not on the form"),
        ({"name": "billing QUESTION"}, "name", "already is a form"),
    ],
)
def test_wrong_forms_are_explained(personas: Personas, billing, posted, field, message) -> None:
    teams = {"a": personas.team_a.pk, "b": personas.team_b.pk}
    mailboxes = {"a": personas.mailbox_a.pk, "b": personas.mailbox_b.pk}
    data = {"name": "Other", "kind": "support", **posted}
    if "team" in data:
        data["team"] = teams[data["team"]]
        data["mailbox"] = mailboxes[data["mailbox"]]
    response = signed_in(personas.admin).post(reverse("portal_settings:form-new"), data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert RequestForm.objects.count() == 1


def test_only_admins_reach_the_settings(personas: Personas, billing) -> None:
    for user in (personas.manager, personas.agent_a):
        assert signed_in(user).get(reverse("portal_settings:forms")).status_code == 403
        url = reverse("portal_settings:form-active", args=[billing.pk])
        assert signed_in(user).post(url, {"active": "0"}).status_code == 403
    billing.refresh_from_db()
    assert billing.active
