"""Custom fields (specs/api.md, "Custom fields"): one check of values and one rule
"required to solve", through every door that reaches them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import AppliesTo, EventKind, FieldDefinition, FieldType, Status, Ticket
from tickets.services import Actor, FieldErrors

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket_fields(db: None) -> dict[str, FieldDefinition]:
    specs = [
        ("order_number", FieldType.TEXT, [], False),
        ("plan", FieldType.CHOICE, ["free", "pro", "enterprise"], True),
        ("due", FieldType.DATE, [], False),
        ("seats", FieldType.NUMBER, [], False),
        ("areas", FieldType.MULTICHOICE, ["billing", "api", "ui"], False),
        ("vip", FieldType.CHECKBOX, [], False),
    ]
    return {
        key: FieldDefinition.objects.create(
            key=key,
            label=key.replace("_", " ").capitalize(),
            type=kind,
            applies_to=AppliesTo.TICKET,
            choices=choices,
            required_to_solve=required,
            position=i,
        )
        for i, (key, kind, choices, required) in enumerate(specs)
    }


def open_ticket(personas: Personas) -> Ticket:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(ticket, status=Status.OPEN)
    return ticket


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return open_ticket(personas)


# -- the service ------------------------------------------------------------------------


def test_values_are_coerced_and_merged(ticket_fields, ticket: Ticket, personas) -> None:
    services.update_ticket(
        ticket,
        actor=Actor.agent(personas.agent_a),
        fields={"order_number": " A-1001 ", "seats": "12", "areas": ["api", "billing"]},
    )
    services.update_ticket(
        ticket,
        actor=Actor.agent(personas.agent_a),
        fields={"due": "2026-12-24", "vip": True, "seats": None},
    )
    ticket.refresh_from_db()
    assert ticket.fields == {
        "order_number": "A-1001",
        "areas": ["billing", "api"],
        "due": "2026-12-24",
        "vip": True,
    }
    event = ticket.events.filter(kind=EventKind.FIELDS).last()
    assert event.before == {"due": None, "seats": 12, "vip": None}
    assert event.after == {"due": "2026-12-24", "seats": None, "vip": True}


def test_wrong_values_name_each_key_and_change_nothing(ticket_fields, ticket, personas) -> None:
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(
            ticket,
            actor=Actor.agent(personas.agent_a),
            fields={
                "order_number": "ok",
                "plan": "gold",
                "due": "24/12/2026",
                "seats": "many",
                "areas": ["api", "mobile"],
                "vip": "perhaps",
                "nope": 1,
            },
        )
    assert set(refused.value.errors) == {"plan", "due", "seats", "areas", "vip", "nope"}
    ticket.refresh_from_db()
    assert ticket.fields == {}


def test_inactive_field_is_unknown(ticket_fields, ticket, personas) -> None:
    FieldDefinition.objects.filter(key="order_number").update(active=False)
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(
            ticket, actor=Actor.agent(personas.agent_a), fields={"order_number": "x"}
        )
    assert list(refused.value.errors) == ["order_number"]


def test_solving_needs_required_fields(ticket_fields, ticket, personas) -> None:
    with pytest.raises(FieldErrors) as refused:
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED)
    assert refused.value.errors == {"plan": "Plan is required to solve the ticket."}
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    # Filled in the same change, it solves.
    services.update_ticket(
        ticket, actor=Actor.agent(personas.agent_a), status=Status.SOLVED, fields={"plan": "pro"}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_customer_solving_their_own_ticket_is_not_held(ticket_fields, ticket, personas) -> None:
    from tickets.models import ActorKind

    services.update_ticket(
        ticket, actor=Actor(ActorKind.CUSTOMER, personas.customer.user), status=Status.SOLVED
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_bulk_solve_skips_tickets_missing_required(ticket_fields, personas) -> None:
    done = open_ticket(personas)
    services.update_ticket(done, actor=Actor.agent(personas.agent_a), fields={"plan": "free"})
    held = open_ticket(personas)
    result = services.bulk_update(
        Ticket.objects.filter(pk__in=[done.pk, held.pk]),
        actor=Actor.agent(personas.agent_a),
        status=Status.SOLVED,
    )
    assert result.changed == 1
    assert result.refused == {"fields": 1}
    held.refresh_from_db()
    assert held.status == Status.OPEN


def test_bulk_solve_page_says_why_tickets_were_left(ticket_fields, client, personas) -> None:
    held = open_ticket(personas)
    client.force_login(personas.agent_a)
    response = client.post(
        reverse("tickets:bulk"),
        {"tickets": [held.pk], "action": "status", "status": "solved"},
        follow=True,
    )
    assert "1 ticket with a field required to solve still empty" in response.content.decode()
    held.refresh_from_db()
    assert held.status == Status.OPEN


# -- the API ----------------------------------------------------------------------------

FIELDS_URL = "/api/v1/fields/"


def test_fields_endpoint_lists_for_agents_and_creates_for_admins(personas) -> None:
    body = {
        "key": "plan",
        "label": "Plan",
        "type": "choice",
        "applies_to": "ticket",
        "choices": ["free", "pro"],
        "required_to_solve": True,
    }
    assert_error_shape(client_for(personas.agent_a).post(FIELDS_URL, body, format="json"), 403)
    created = client_for(personas.admin).post(FIELDS_URL, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["key"] == "plan"
    listed = client_for(personas.agent_a).get(FIELDS_URL).json()
    assert [(f["key"], f["type"], f["choices"], f["required_to_solve"]) for f in listed] == [
        ("plan", "choice", ["free", "pro"], True)
    ]
    again = client_for(personas.admin).post(FIELDS_URL, body, format="json")
    assert "key" in assert_error_shape(again, 400)["errors"]
    # The same key for customers is another field.
    other = {**body, "applies_to": "customer", "required_to_solve": False}
    assert client_for(personas.admin).post(FIELDS_URL, other, format="json").status_code == 201
    assert_error_shape(client_for(personas.customer.user).get(FIELDS_URL), 403)


def test_field_definition_is_checked(personas) -> None:
    admin = client_for(personas.admin)
    no_choices = {"key": "plan", "label": "Plan", "type": "choice", "applies_to": "ticket"}
    assert (
        "choices"
        in assert_error_shape(admin.post(FIELDS_URL, no_choices, format="json"), 400)["errors"]
    )
    required_customer = {
        "key": "tier",
        "label": "Tier",
        "type": "text",
        "applies_to": "customer",
        "required_to_solve": True,
    }
    errors = assert_error_shape(admin.post(FIELDS_URL, required_customer, format="json"), 400)
    assert "required_to_solve" in errors["errors"]
    bad_key = {"key": "not a slug", "label": "X", "type": "text", "applies_to": "ticket"}
    assert (
        "key" in assert_error_shape(admin.post(FIELDS_URL, bad_key, format="json"), 400)["errors"]
    )


def test_patch_changes_only_named_keys_and_null_clears(ticket_fields, ticket, personas) -> None:
    client = client_for(personas.agent_a)
    url = f"/api/v1/tickets/{ticket.number}/"
    first = client.patch(
        url,
        {
            "fields": {
                "order_number": "A-1001",
                "plan": "pro",
                "due": "2026-12-24",
                "seats": 12,
                "areas": ["billing", "api"],
                "vip": True,
            }
        },
        format="json",
    )
    assert first.status_code == 200, first.content
    assert first.json()["fields"] == {
        "order_number": "A-1001",
        "plan": "pro",
        "due": "2026-12-24",
        "seats": 12,
        "areas": ["billing", "api"],
        "vip": True,
    }
    second = client.patch(url, {"fields": {"seats": None, "plan": "free"}}, format="json")
    assert second.json()["fields"] == {
        "order_number": "A-1001",
        "plan": "free",
        "due": "2026-12-24",
        "areas": ["billing", "api"],
        "vip": True,
    }
    assert client.get(url).json()["fields"]["plan"] == "free"


def test_patch_wrong_value_answers_400_by_key(ticket_fields, ticket, personas) -> None:
    response = client_for(personas.agent_a).patch(
        f"/api/v1/tickets/{ticket.number}/",
        {"fields": {"plan": "gold", "seats": "many", "order_number": "fine"}},
        format="json",
    )
    errors = assert_error_shape(response, 400)["errors"]
    assert set(errors["fields"]) == {"plan", "seats"}
    assert errors["fields"]["plan"] == ["Choose one of: free, pro, enterprise."]
    ticket.refresh_from_db()
    assert ticket.fields == {}


def test_solving_over_the_api_with_a_required_field_empty(ticket_fields, ticket, personas) -> None:
    client = client_for(personas.agent_a)
    url = f"/api/v1/tickets/{ticket.number}/"
    errors = assert_error_shape(client.patch(url, {"status": "solved"}, format="json"), 400)
    assert errors["errors"] == {"fields": {"plan": ["Plan is required to solve the ticket."]}}
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    solved = client.patch(url, {"status": "solved", "fields": {"plan": "pro"}}, format="json")
    assert solved.status_code == 200, solved.content
    assert solved.json()["status"] == "solved"


def test_list_filters_by_a_field(ticket_fields, personas) -> None:
    agent = Actor.agent(personas.agent_a)
    pro = open_ticket(personas)
    services.update_ticket(pro, actor=agent, fields={"plan": "pro", "areas": ["billing", "api"]})
    free = open_ticket(personas)
    services.update_ticket(free, actor=agent, fields={"plan": "free", "areas": ["api"], "seats": 3})
    open_ticket(personas)
    client = client_for(personas.agent_a)

    def numbers(query: str) -> set[int]:
        response = client.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    assert numbers("field.plan=pro") == {pro.number}
    assert numbers("field.areas=api") == {pro.number, free.number}
    assert numbers("field.areas=billing&field.plan=pro") == {pro.number}
    assert numbers("field.seats=3") == {free.number}
    errors = assert_error_shape(client.get("/api/v1/tickets/?field.plan=gold"), 400)["errors"]
    assert "field.plan" in errors
    assert (
        "field.nope"
        in assert_error_shape(client.get("/api/v1/tickets/?field.nope=1"), 400)["errors"]
    )


def test_customers_see_no_fields_and_cannot_filter_by_them(ticket_fields, ticket, personas) -> None:
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), fields={"plan": "pro"})
    services.reply(ticket, personas.agent_a, "Hello")
    client = client_for(personas.customer.user)
    shown = client.get(f"/api/v1/tickets/{ticket.number}/")
    assert shown.status_code == 200
    assert "fields" not in shown.json()
    assert_error_shape(client.get("/api/v1/tickets/?field.plan=pro"), 400)


def test_customer_fields_over_the_api(personas) -> None:
    FieldDefinition.objects.create(
        key="tier",
        label="Tier",
        type=FieldType.CHOICE,
        applies_to=AppliesTo.CUSTOMER,
        choices=["gold", "silver"],
    )
    client = client_for(personas.agent_a)
    make_ticket(personas.mailbox_a, personas.customer)
    url = f"/api/v1/customers/{personas.customer.pk}/"
    changed = client.patch(url, {"fields": {"tier": "gold"}}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["fields"] == {"tier": "gold"}
    wrong = assert_error_shape(client.patch(url, {"fields": {"tier": "tin"}}, format="json"), 400)
    assert list(wrong["errors"]["fields"]) == ["tier"]
    cleared = client.patch(url, {"fields": {"tier": None}}, format="json")
    assert cleared.json()["fields"] == {}


# -- history import ---------------------------------------------------------------------


def _ticket_line(external_id: str, fields: object) -> str:
    import json

    return json.dumps(
        {
            "type": "ticket",
            "external_id": external_id,
            "mailbox": "a@tandem.test",
            "subject": "Imported",
            "customer": {"email": "li@customer.test"},
            "created_at": "2026-03-02T09:15:00Z",
            "messages": [
                {
                    "direction": "inbound",
                    "from": "li@customer.test",
                    "at": "2026-03-02T09:15:00Z",
                    "body": "Hi",
                }
            ],
            # History is replayed as it happened: solved with the required plan empty.
            "events": [{"at": "2026-03-03T08:00:00Z", "status": "solved"}],
            "fields": fields,
        }
    )


@pytest.mark.parametrize("batch_size", [1, 250], ids=["per-line", "batch"])
def test_import_takes_the_fields_map(ticket_fields, personas, batch_size: int) -> None:
    from importer.lines import import_lines

    lines = [
        _ticket_line("T-1", {"order_number": "A-1001", "seats": 12, "areas": ["api", "billing"]}),
        _ticket_line("T-2", {"plan": "gold"}),
        _ticket_line("T-3", {"nope": 1}),
        _ticket_line("T-4", ["not", "a", "map"]),
        _ticket_line("T-5", None),
    ]
    result = import_lines(lines, batch_size=batch_size)
    assert result.imported == 2
    assert [(e.line, e.reason.split(":")[0]) for e in result.errors] == [
        (2, "fields"),
        (3, "fields"),
        (4, "'fields' must be an object of key"),
    ]
    assert result.errors[0].reason == "fields: plan: Choose one of: free, pro, enterprise."
    imported = Ticket.objects.get(external_id="T-1")
    assert imported.fields == {"order_number": "A-1001", "seats": 12, "areas": ["billing", "api"]}
    assert imported.status == Status.SOLVED
    assert Ticket.objects.get(external_id="T-5").fields == {}
    # The same filter finds imported tickets.
    response = client_for(personas.agent_a).get("/api/v1/tickets/?field.areas=api")
    assert [row["number"] for row in response.json()["results"]] == [imported.number]


def test_create_over_the_api_with_fields(ticket_fields, personas) -> None:
    client = client_for(personas.agent_a)
    body = {
        "subject": "Order missing",
        "body": "Where is it?",
        "customer": "li@customer.test",
        "mailbox": "a@tandem.test",
        "fields": {"order_number": "A-7", "plan": "pro"},
    }
    created = client.post("/api/v1/tickets/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["fields"] == {"order_number": "A-7", "plan": "pro"}
    wrong = client.post("/api/v1/tickets/", {**body, "fields": {"plan": "x"}}, format="json")
    assert list(assert_error_shape(wrong, 400)["errors"]["fields"]) == ["plan"]


# -- the ticket page ----------------------------------------------------------------------

HTMX = {"HX-Request": "true"}


def test_side_panel_edits_a_field_in_place(ticket_fields, ticket, client, personas) -> None:
    client.force_login(personas.agent_a)
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert 'id="field-plan"' in page and "(required to solve)" in page
    url = reverse("tickets:set_field", args=[ticket.number, "seats"])
    done = client.post(url, {"value": "12"}, headers=HTMX)
    assert done.status_code == 200
    assert 'id="field-seats" value="12"' in done.content.decode()
    areas = reverse("tickets:set_field", args=[ticket.number, "areas"])
    client.post(areas, {"value": ["ui", "api"]}, headers=HTMX)
    ticket.refresh_from_db()
    assert ticket.fields == {"seats": 12, "areas": ["api", "ui"]}
    # Every box unticked clears it.
    client.post(areas, {}, headers=HTMX)
    ticket.refresh_from_db()
    assert ticket.fields == {"seats": 12}


def test_side_panel_says_a_wrong_value_under_the_field(ticket_fields, ticket, client, personas):
    client.force_login(personas.agent_a)
    url = reverse("tickets:set_field", args=[ticket.number, "due"])
    wrong = client.post(url, {"value": "soon"}, headers=HTMX)
    assert wrong.status_code == 422
    assert 'id="field-error-due">Enter a date as YYYY-MM-DD.' in wrong.content.decode()
    ticket.refresh_from_db()
    assert ticket.fields == {}
    missing = reverse("tickets:set_field", args=[ticket.number, "nope"])
    assert client.post(missing, {"value": "x"}, headers=HTMX).status_code == 404


def test_solving_from_the_page_says_which_fields_to_fill(ticket_fields, ticket, client, personas):
    client.force_login(personas.agent_a)
    url = reverse("tickets:update", args=[ticket.number])
    held = client.post(url, {"status": "solved"}, headers=HTMX)
    assert held.status_code == 422
    html = held.content.decode()
    assert "Fill in before solving: Plan." in html
    assert 'id="field-error-plan">Plan is required to solve the ticket.' in html
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    client.post(
        reverse("tickets:set_field", args=[ticket.number, "plan"]), {"value": "pro"}, headers=HTMX
    )
    assert client.post(url, {"status": "solved"}, headers=HTMX).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_reply_and_solve_holds_the_reply(ticket_fields, ticket, client, personas) -> None:
    client.force_login(personas.agent_a)
    before = ticket.messages.count()
    response = client.post(
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "Fixed", "status_after": "solved"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Not sent: Fill in before solving: Plan." in response.content.decode()
    assert ticket.messages.count() == before
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_macro_that_solves_is_held_back(ticket_fields, ticket, personas) -> None:
    from tickets.workflow import collab
    from tickets.workflow.models import CannedReply

    macro = CannedReply.objects.create(
        title="Done", body="All fixed.", changes={"status": "solved"}
    )
    before = ticket.messages.count()
    with pytest.raises(FieldErrors):
        collab.apply_macro(ticket, macro, personas.agent_a)
    assert ticket.messages.count() == before
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), fields={"plan": "pro"})
    collab.apply_macro(ticket, macro, personas.agent_a)
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_a_rule_that_solves_is_refused_until_the_field_is_filled(
    ticket_fields, ticket, personas, no_builtin_rules, django_capture_on_commit_callbacks
) -> None:
    from tickets.workflow import automation, setup
    from tickets.workflow.models import AutomationRule

    setup.save_rule(
        AutomationRule(
            name="Solve on the done tag",
            trigger="changed",
            conditions=[{"field": "tag", "op": "has", "value": "done"}],
            actions=[{"type": "set_status", "value": "solved"}],
        )
    )
    automation.rules_changed()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), tags=["done"])
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), fields={"plan": "pro"})
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


# -- the inbox ------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["updated", "priority"])
def test_inbox_filters_by_a_field(ticket_fields, personas, client, sort: str) -> None:
    agent = Actor.agent(personas.agent_a)
    pro = open_ticket(personas)
    services.update_ticket(pro, actor=agent, fields={"plan": "pro", "areas": ["api"]})
    free = open_ticket(personas)
    services.update_ticket(free, actor=agent, fields={"plan": "free"})
    client.force_login(personas.agent_a)

    def shown(query: str) -> set[int]:
        response = client.get(f"{reverse('tickets:inbox')}?sort={sort}&{query}")
        assert response.status_code == 200
        return {t.number for t in response.context["page"].tickets}

    assert shown("field.plan=pro") == {pro.number}
    assert shown("field.areas=api&view=all") == {pro.number}
    # A bad filter is dropped, as every bad inbox filter is: never a 500.
    assert shown("field.plan=gold") == {pro.number, free.number}
    assert shown("field.nope=1") == {pro.number, free.number}


def test_django_admin_defines_fields_with_the_same_checks(personas, client) -> None:
    client.force_login(personas.admin)
    url = reverse("admin:tickets_fielddefinition_add")
    base = {"key": "plan", "label": "Plan", "applies_to": "ticket", "position": 0, "active": "on"}
    refused = client.post(url, {**base, "type": "choice", "choices": ""})
    assert refused.status_code == 200
    assert "A choice field needs at least one choice." in refused.content.decode()
    saved = client.post(url, {**base, "type": "choice", "choices": "free,pro"})
    assert saved.status_code == 302
    assert FieldDefinition.objects.get(key="plan").choices == ["free", "pro"]
