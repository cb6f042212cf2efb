"""The inbox's controls for custom fields: a select per choice field (the UI of the
`field.<key>=` filter), an input per other field, and optional columns (`col=<key>`)
read from the rows already loaded (no query more)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import AppliesTo, FieldDefinition, FieldType, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client: Client, personas: Personas) -> Client:
    for key, kind, choices in (
        ("plan", FieldType.CHOICE, ["free", "pro"]),
        ("order_number", FieldType.TEXT, []),
        ("vip", FieldType.CHECKBOX, []),
    ):
        services.save_definition(
            FieldDefinition(
                key=key, label=key.title(), type=kind, applies_to=AppliesTo.TICKET, choices=choices
            )
        )
    client.force_login(personas.agent_a)
    return client


def opened(personas: Personas, **values: object):  # type: ignore[no-untyped-def]
    ticket = make_ticket(personas.mailbox_a, personas.customer, fields=values)
    services.update_ticket(ticket, status=Status.OPEN)
    return ticket


def test_choice_fields_get_a_select_and_the_form_filters(agent: Client, personas) -> None:
    pro = opened(personas, plan="pro", order_number="A-1")
    opened(personas, plan="free")
    page = agent.get(reverse("tickets:inbox")).content.decode()
    assert '<select name="field.plan"><option value="">Any</option>' in page
    assert '<option value="pro" >pro</option>' in page
    assert 'name="field.order_number"' in page and 'name="field.vip"' in page
    # The form submits every control: the empty ones filter nothing.
    response = agent.get(
        reverse("tickets:inbox"), {"field.plan": "pro", "field.order_number": "", "field.vip": ""}
    )
    assert [t.number for t in response.context["page"].tickets] == [pro.number]
    assert 'value="pro" selected' in response.content.decode()


def test_field_columns_show_values_without_a_query_more(agent: Client, personas) -> None:
    for n in range(3):
        opened(personas, plan="pro", order_number=f"A-{n}", vip=True)
    opened(personas)
    url = reverse("tickets:inbox")
    agent.get(url)
    with CaptureQueriesContext(connection) as plain:
        agent.get(url)
    with CaptureQueriesContext(connection) as with_columns:
        response = agent.get(url, {"col": ["order_number", "vip", "nope"]})
    assert len(with_columns) == len(plain)
    page = response.content.decode()
    assert '<th class="col-field">Order_Number</th><th class="col-field">Vip</th>' in page
    assert '<td class="col-field">A-2</td><td class="col-field">Yes</td>' in page
    assert '<td class="col-field">—</td>' in page
