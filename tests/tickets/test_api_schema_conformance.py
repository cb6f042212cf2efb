"""The OpenAPI schema describes the API as it answers (issue #14, finding 19).

Schemathesis reads /api/schema/ from the app itself (in-process WSGI, no server) and
sends each operation generated requests as an admin, over data like the demo's: tickets
with replies and notes, a customer without an organization, an unassigned ticket,
articles. Every answer must be one the schema names for that operation (status code),
of the shape it declares (response body), and never a server error.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks

from tests.conftest import Personas
from tests.factories import make_article, make_customer, make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import services
from tickets.models import Organization

# Per operation; with derandomize, the same requests on every run. Valid requests and
# invalid ones (a wrong type, a missing field...), whose answers must be described too.
EXAMPLES = 15
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
    checks.content_type_conformance,
]


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def _json_lines(context: Any, value: Any) -> bytes:
    """The history import's bodies: generated as bytes (format: binary), sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture
def demo_like(personas: Personas) -> dict[str, str]:
    """Data of the shapes the demo has; the admin's token header."""
    acme = Organization.objects.create(name="Acme")
    with_org = make_customer("ops@acme.test", organization=acme, name="Ada Ops")
    answered = make_ticket(personas.mailbox_a, personas.customer, subject="Printer jammed")
    services.reply(answered, personas.agent_a, "We sent a technician.")
    services.add_note(answered, personas.agent_a, "Floor 3 again.")
    services.update_ticket(answered, assignee=personas.agent_a, team=personas.team_a)
    make_ticket(personas.mailbox_b, with_org, subject="Invoice question", tags=["billing"])
    make_ticket(personas.mailbox_a, personas.other_customer, subject="No organization")
    make_article("Resetting your password", "Open the sign-in page and follow the link.")
    token = Token.objects.create(user=personas.admin)
    return {"Authorization": f"Token {token.key}"}


# Each request commits or fails on its own, as in production (no ATOMIC_REQUESTS): in
# one test transaction, a query error the API turns into a 400 (a bad cursor) would
# abort every request after it.
@pytest.mark.django_db(transaction=True)
def test_every_answer_is_one_the_schema_describes(demo_like: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), headers=demo_like)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the schema lost operations"
    for operation in operations:

        @given(case=st.one_of(*(operation.as_strategy(mode) for mode in MODES)))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_described(case: Any) -> None:
            case.call_and_validate(headers=demo_like, checks=CHECKS)

        try:
            answers_as_described()
        except BaseExceptionGroup as failure:  # schemathesis' failures, one group per operation
            failures[operation.label] = str(failure)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


@pytest.mark.django_db
def test_the_schema_names_nulls_empty_addresses_and_each_operations_errors(
    personas: Personas,
) -> None:
    schema = client_for(personas.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    for name, field in [
        ("Customer", "organization"),
        ("CustomerRef", "organization"),
        ("Ticket", "assignee"),
        ("Ticket", "team"),
        ("Message", "author"),
    ]:
        assert components[name]["properties"][field].get("nullable") is True, (name, field)
    assert "format" not in components["Message"]["properties"]["from_address"]
    assert set(components["Error"]["properties"]) == {"detail", "errors"}
    paths = schema["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, methods in paths.items():
        for method, operation in methods.items():
            codes = operation["responses"]
            assert {"401", "429"} <= set(codes), (method, path)
            assert ("404" in codes) == ("{" in path), (method, path)
            for code in set(codes) - {"200", "201"}:
                assert codes[code]["content"]["application/json"]["schema"] == error
    tickets = paths["/api/v1/tickets/{number}/"]
    assert {"400", "403", "404", "409"} <= set(tickets["patch"]["responses"])
    assert {"400", "403", "413"} <= set(paths["/api/v1/tickets/"]["post"]["responses"])
    assert "403" not in paths["/api/v1/kb/articles/"]["get"]["responses"]  # readable by anyone


@pytest.mark.django_db
def test_unknown_api_paths_answer_a_json_404_whatever_the_method_or_characters(
    personas: Personas,
) -> None:
    client = client_for(personas.admin)
    client.enforce_csrf_checks = True
    client.cookies["csrftoken"] = "a" * 32  # a browser's session: CSRF is checked
    for method, path in [
        ("post", "/api/v1/tickets/q/messages/"),
        ("get", "/api/v1/tickets/X%0Ay/messages/"),
        ("patch", "/api/v1/nothing-here/"),
    ]:
        response = getattr(client, method)(path)
        assert_error_shape(response, 404)
