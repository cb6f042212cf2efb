"""Custom fields and request forms in a real browser (issue #17, item 2): a field an
admin defines in the settings, set on a ticket in its side panel and required to solve;
a portal request form that routes its ticket to the team it names, with its fields."""

from __future__ import annotations

import re

import pytest

from portal.models import RequestForm
from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Kind, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_field_set_in_the_side_panel_and_required_to_solve(page, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, subject="Refund please")
    services.update_ticket(ticket, status=Status.OPEN)
    sign_in(page, personas.admin.email)

    # The admin defines the field in the settings area.
    page.goto("/settings/fields/")
    page.get_by_role("link", name="New field").click()
    page.get_by_label("Label", exact=True).fill("Order number")
    page.get_by_label("Key", exact=True).fill("order_number")
    page.get_by_label("Type", exact=True).select_option("text")
    page.get_by_label("Applies to").select_option("ticket")
    page.get_by_label("Required to solve").check()
    page.get_by_role("button", name="Save field").click()
    page.locator("#fields-ticket", has_text="order_number").wait_for()

    # Solving is refused while it is empty, and the panel says what to fill in.
    page.goto(f"/tickets/{ticket.number}/")
    page.locator("#prop-status").select_option("solved")
    page.locator("#update-error", has_text="Fill in before solving: Order number").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN

    # Set in place, then solving goes through.
    page.locator("#field-order_number").fill("A-1001")
    page.locator("#field-order_number").press("Tab")
    page.locator("#activity", has_text="A-1001").first.wait_for()
    page.locator("#prop-status").select_option("solved")
    page.locator("#ticket-head", has_text="Solved").wait_for()
    ticket.refresh_from_db()
    assert ticket.fields == {"order_number": "A-1001"}
    assert ticket.status == Status.SOLVED


def test_a_portal_request_form_that_routes(page, personas: Personas) -> None:
    for key, kind, choices in (
        ("order_number", FieldType.TEXT, []),
        ("plan", FieldType.CHOICE, ["free", "pro"]),
    ):
        services.save_definition(
            FieldDefinition(
                key=key,
                label=key.replace("_", " ").capitalize(),
                type=kind,
                applies_to=AppliesTo.TICKET,
                choices=choices,
            )
        )
    RequestForm.objects.create(
        name="Billing question",
        description="Invoices, refunds and plans",
        fields=["order_number", "plan"],
        required=["order_number"],
        kind=Kind.SERVICE,
        team=personas.team_b,
        mailbox=personas.mailbox_b,
    )
    RequestForm.objects.create(name="Bug report", team=personas.team_a)

    page.goto("/portal/sign-in/")
    page.get_by_label("Email address").last.fill(personas.customer.email)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Sign in with password").click()
    page.wait_for_url("**/portal/requests/")
    page.goto("/portal/requests/new/")
    page.get_by_role("link", name=re.compile("Billing question")).click()
    page.locator("h1", has_text="Billing question").wait_for()
    page.get_by_label("Subject").fill("Charged twice")
    page.get_by_label("Description").fill("My card was charged twice this month.")
    page.get_by_role("button", name="Send request").click()
    # The required field is asked for before anything is filed.
    page.locator(".field-error .error", has_text="required").first.wait_for()
    assert not Ticket.objects.exists()
    page.get_by_label("Order number").fill("A-1001")
    page.get_by_label("Plan").select_option("pro")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r".*/portal/requests/\d+/$"))

    ticket = Ticket.objects.get()
    assert ticket.team == personas.team_b
    assert ticket.mailbox == personas.mailbox_b
    assert ticket.kind == Kind.SERVICE
    assert ticket.fields == {"order_number": "A-1001", "plan": "pro"}
