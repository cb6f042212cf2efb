"""REST API of specs/api.md: permissions, shapes, filters, validation, query counts."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
from tests.tickets.api_client import assert_error_shape, client_for
from tickets import directory, services
from tickets.models import (
    Direction,
    Role,
    Status,
    Ticket,
    User,
)
from tickets.services import Actor

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


@pytest.fixture
def two_tickets(personas: Personas) -> tuple[Ticket, Ticket]:
    """One ticket per mailbox: A (Li, team A) and B (Sam, team B)."""
    a = make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")
    b = make_ticket(personas.mailbox_b, personas.other_customer, subject="Invoice missing")
    return a, b


# --- permission matrix -------------------------------------------------------------

MATRIX = [
    # persona, sees ticket A, sees ticket B
    ("agent_a", True, False),
    ("agent_b", False, True),
    ("manager", True, True),
    ("admin", True, True),
    ("customer", True, False),
    ("other_customer", False, True),
]


def persona_user(personas: Personas, name: str) -> User:
    value = getattr(personas, name)
    return value if isinstance(value, User) else value.user


@pytest.mark.parametrize(("persona", "sees_a", "sees_b"), MATRIX)
def test_permission_matrix_list_and_detail(
    personas: Personas, two_tickets: tuple[Ticket, Ticket], persona: str, sees_a: bool, sees_b: bool
) -> None:
    a, b = two_tickets
    client = client_for(persona_user(personas, persona))

    listed = client.get(TICKETS)
    assert listed.status_code == 200
    numbers = {row["number"] for row in listed.json()["results"]}
    assert numbers == {t.number for t, seen in ((a, sees_a), (b, sees_b)) if seen}

    for ticket, seen in ((a, sees_a), (b, sees_b)):
        detail = client.get(f"{TICKETS}{ticket.number}/")
        messages = client.get(f"{TICKETS}{ticket.number}/messages/")
        if seen:
            assert detail.status_code == 200
            assert detail.json()["subject"] == ticket.subject
            assert messages.status_code == 200
        else:
            # 404, never 403: numbers cannot be probed.
            assert_error_shape(detail, 404)
            assert_error_shape(messages, 404)
            assert_error_shape(client.patch(f"{TICKETS}{ticket.number}/", {"status": "open"}), 404)
            assert_error_shape(
                client.post(f"{TICKETS}{ticket.number}/messages/", {"body": "hi"}), 404
            )


def test_anonymous_gets_401_everywhere(two_tickets: tuple[Ticket, Ticket]) -> None:
    client = APIClient()
    a, _ = two_tickets
    for url in (
        TICKETS,
        f"{TICKETS}{a.number}/",
        f"{TICKETS}{a.number}/messages/",
        "/api/v1/customers/",
    ):
        body = assert_error_shape(client.get(url), 401)
        assert "credentials" in body["detail"].lower()
    assert_error_shape(client.post(TICKETS, {}, format="json"), 401)


def test_token_auth_with_drf_create_token(personas: Personas, two_tickets) -> None:  # type: ignore[no-untyped-def]
    call_command("drf_create_token", personas.agent_a.username, verbosity=0)
    key = Token.objects.get(user=personas.agent_a).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(TICKETS)
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [two_tickets[0].number]
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert_error_shape(client.get(TICKETS), 401)


def test_session_auth_works_for_the_web_ui(personas: Personas, two_tickets) -> None:  # type: ignore[no-untyped-def]
    client = APIClient(enforce_csrf_checks=True)
    # Signed in as by the sign-in page (which django-axes watches: it needs the request
    # that Client.login does not pass).
    client.force_login(personas.agent_b)
    response = client.get(TICKETS)
    assert [row["number"] for row in response.json()["results"]] == [two_tickets[1].number]
    # Unsafe methods with a session need the CSRF token.
    assert_error_shape(client.patch(f"{TICKETS}{two_tickets[1].number}/", {"status": "open"}), 403)


# --- reading -----------------------------------------------------------------------


def test_detail_has_messages_oldest_first_and_hides_notes_from_customers(
    personas: Personas,
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, body_text="It broke")
    services.add_note(ticket, personas.agent_a, "Customer is on the old plan")
    services.reply(ticket, personas.agent_a, "We are on it")

    agent_view = client_for(personas.agent_a).get(f"{TICKETS}{ticket.number}/").json()
    assert [m["direction"] for m in agent_view["messages"]] == ["inbound", "note", "outbound"]
    assert agent_view["messages"][0]["body"] == "It broke"
    assert agent_view["messages"][2]["author"] == personas.agent_a.email
    assert agent_view["customer"]["email"] == "li@customer.test"
    assert agent_view["mailbox"] == "a@tandem.test"
    assert agent_view["status"] == "open"

    customer = client_for(personas.customer.user)
    customer_view = customer.get(f"{TICKETS}{ticket.number}/").json()
    assert [m["direction"] for m in customer_view["messages"]] == ["inbound", "outbound"]
    listed = customer.get(f"{TICKETS}{ticket.number}/messages/").json()["results"]
    assert [m["body"] for m in listed] == ["It broke", "We are on it"]


def test_customer_sees_organization_tickets_only_when_shared(personas: Personas) -> None:
    from tickets.models import Organization

    org = Organization.objects.create(name="Customer Ltd", shares_tickets=True)
    colleague = make_customer("kim@customer.test", organization=org, user=True)
    personas.customer.organization = org
    personas.customer.save(update_fields=["organization"])
    theirs = make_ticket(personas.mailbox_b, colleague)
    response = client_for(personas.customer.user).get(f"{TICKETS}{theirs.number}/")
    assert response.status_code == 200
    org.shares_tickets = False
    org.save(update_fields=["shares_tickets"])
    assert_error_shape(client_for(personas.customer.user).get(f"{TICKETS}{theirs.number}/"), 404)


# --- filters, ordering, paging ------------------------------------------------------


def test_filters(personas: Personas) -> None:
    now_tickets = {
        "fire": make_ticket(
            personas.mailbox_a, personas.customer, subject="Printer on fire", tags=["hardware"]
        ),
        "bill": make_ticket(
            personas.mailbox_a, personas.other_customer, subject="Wrong invoice", kind="service"
        ),
        "b": make_ticket(personas.mailbox_b, personas.customer, subject="Login fails"),
    }
    services.update_ticket(
        now_tickets["fire"],
        actor=Actor.agent(personas.agent_a),
        assignee=personas.agent_a,
        status=Status.PENDING,
        team=personas.team_a,
    )
    services.add_message(
        now_tickets["b"],
        direction=Direction.INBOUND,
        body_text="the password reset email never came",
    )
    client = client_for(personas.manager)

    def numbers(query: str) -> set[int]:
        response = client.get(f"{TICKETS}?{query}")
        assert response.status_code == 200, response.content
        return {row["number"] for row in response.json()["results"]}

    fire, bill, b = now_tickets["fire"].number, now_tickets["bill"].number, now_tickets["b"].number
    assert numbers("status=pending") == {fire}
    assert numbers("status=new,pending") == {fire, bill, b}
    assert numbers("kind=service") == {bill}
    assert numbers("mailbox=b@tandem.test") == {b}
    assert numbers(f"assignee={personas.agent_a.email}") == {fire}
    assert numbers("assignee=none") == {bill, b}
    assert numbers("team=Team A") == {fire}
    assert numbers("tag=hardware") == {fire}
    assert numbers("customer=LI@customer.test") == {fire, b}
    assert numbers("q=printer") == {fire}
    assert numbers("q=passwords") == {b}  # stemmed match in a message body
    assert numbers("q=printer OR invoice") == {fire, bill}
    assert numbers("updated_after=2000-01-01T00:00:00Z") == {fire, bill, b}
    assert numbers("updated_after=2999-01-01T00:00:00%2B02:00") == set()
    # A "+" a script forgot to encode arrives as a space.
    assert numbers("updated_after=2000-01-01T00:00:00+02:00") == {fire, bill, b}


def test_search_never_matches_notes_for_customers(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.add_note(ticket, personas.agent_a, "suspected fraudster")
    assert client_for(personas.agent_a).get(f"{TICKETS}?q=fraudster").json()["results"]
    assert client_for(personas.customer.user).get(f"{TICKETS}?q=fraudster").json()["results"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("status=open,bogus", "status"),
        ("kind=sales", "kind"),
        ("mailbox=nobody@tandem.test", "mailbox"),
        ("assignee=not-an-agent@x.test", "assignee"),
        ("team=No Such Team", "team"),
        ("customer=not-an-email", "customer"),
        ("updated_after=yesterday", "updated_after"),
        ("updated_after=2026-03-02T09:15:00", "updated_after"),  # no offset: ambiguous
        ("updated_after=2026-03-02", "updated_after"),
        ("cursor=garbage", "cursor"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
    ],
)
def test_bad_filter_values_are_a_clear_400(personas: Personas, query: str, field: str) -> None:
    body = assert_error_shape(client_for(personas.manager).get(f"{TICKETS}?{query}"), 400)
    assert body["errors"][field]
    assert all(isinstance(m, str) for m in body["errors"][field])


def test_ordering_is_stable_and_cursor_pages_through_everything(personas: Personas) -> None:
    created = [make_ticket(personas.mailbox_a, personas.customer) for _ in range(7)]
    # Equal updated_at on all rows: the number breaks the tie, so no row repeats or drops.
    Ticket.objects.update(updated_at=created[0].updated_at)
    client = client_for(personas.agent_a)
    seen: list[int] = []
    url: str | None = f"{TICKETS}?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["number"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted((t.number for t in created), reverse=True)


def _make_many(personas: Personas, count: int) -> None:
    for _ in range(count):
        ticket = make_ticket(personas.mailbox_a, make_customer(), tags=["x"])
        services.update_ticket(
            ticket,
            actor=Actor.agent(personas.agent_a),
            assignee=personas.agent_a,
            team=personas.team_a,
        )


@pytest.mark.parametrize("path", [TICKETS, "/api/v1/customers/"])
def test_list_query_count_does_not_grow_with_rows(personas: Personas, path: str) -> None:
    client = client_for(personas.agent_a)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{path}?page_size=200")
        assert response.status_code == 200
        return len(captured.captured_queries)

    _make_many(personas, 10)
    ten = count_queries()
    _make_many(personas, 90)
    hundred = count_queries()
    # Tickets: one SELECT joining mailbox, customer, organization, assignee and team,
    # with the team-membership rule as a subquery. Customers: one SELECT with the
    # per-row ticket count as a correlated subquery.
    assert ten == hundred == 1


def test_detail_query_count_does_not_grow_with_messages(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{TICKETS}{ticket.number}/").status_code == 200
        return len(captured.captured_queries)

    services.reply(ticket, personas.agent_a, "one")
    # The agent's mailboxes come from the directory each process holds (tickets.access):
    # read once per process, not per request.
    directory.visible_mailboxes(personas.agent_a)
    few = count_queries()
    for n in range(20):
        services.add_note(ticket, personas.agent_b if n % 2 else personas.agent_a, f"note {n}")
    # The ticket with its relations, then the messages with their authors.
    assert few == count_queries() == 2


# --- customers -----------------------------------------------------------------------


def test_customers_list_counts_visible_tickets(personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    make_ticket(personas.mailbox_b, personas.customer)
    make_ticket(personas.mailbox_b, personas.other_customer)
    rows = client_for(personas.manager).get("/api/v1/customers/").json()["results"]
    assert [(r["email"], r["ticket_count"]) for r in rows] == [
        ("li@customer.test", 2),
        ("sam@other.test", 1),
    ]
    rows = client_for(personas.agent_a).get("/api/v1/customers/").json()["results"]
    assert [(r["email"], r["ticket_count"]) for r in rows] == [("li@customer.test", 1)]
    rows = client_for(personas.manager).get("/api/v1/customers/?q=sam").json()["results"]
    assert [r["email"] for r in rows] == ["sam@other.test"]
    assert_error_shape(client_for(personas.customer.user).get("/api/v1/customers/"), 403)


# --- error shape on every path --------------------------------------------------------


def test_every_error_path_answers_in_the_spec_shape(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    assert_error_shape(client.get("/api/v1/nothing-here/"), 404)
    assert_error_shape(client.get("/api/v1/tickets"), 404)
    assert_error_shape(client.get(f"{TICKETS}abc/"), 404)
    assert_error_shape(client.get(f"{TICKETS}99999999/"), 404)
    assert_error_shape(client.put(f"{TICKETS}{ticket.number}/", {}, format="json"), 405)
    assert_error_shape(client.delete(f"{TICKETS}{ticket.number}/"), 405)
    assert_error_shape(client.post(TICKETS, b"<xml/>", content_type="application/xml"), 415)
    body = assert_error_shape(
        client.post(TICKETS, b'{"subject": ', content_type="application/json"), 400
    )
    assert "JSON" in body["detail"]
    assert_error_shape(client.post(TICKETS, b"[1, 2]", content_type="application/json"), 400)
    # The decoder recurses per nesting level: a deep body was a RecursionError, a 500.
    deep = b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for response in (
        client.post(TICKETS, deep, content_type="application/json"),
        client.patch(f"{TICKETS}{ticket.number}/", deep, content_type="application/json"),
    ):
        body = assert_error_shape(response, 400)
        assert body["detail"] == "JSON parse error - nested too deeply."
    admin = client_for(personas.admin)
    imported = admin.post("/api/v1/import/", deep, content_type="application/x-ndjson")
    assert imported.status_code == 200
    assert imported.json()["errors"] == [{"line": 1, "reason": "bad JSON: nested too deeply"}]


@override_settings(MAX_UPLOAD_BYTES=2000)
def test_oversized_bodies_get_413(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client = client_for(personas.agent_a)
    big = {"body": "x" * 5000}
    body = assert_error_shape(
        client.post(f"{TICKETS}{ticket.number}/messages/", big, format="json"), 413
    )
    assert "2000" in body["detail"]
    assert_error_shape(client.post(f"{TICKETS}{ticket.number}/messages/", big), 413)
    assert ticket.messages.count() == 1


def test_throttling_answers_429_in_the_spec_shape(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "2/min"}
    )
    client = client_for(make_user(Role.AGENT))
    assert client.get(TICKETS).status_code == 200
    assert client.get(TICKETS).status_code == 200
    response = client.get(TICKETS)
    body = assert_error_shape(response, 429)
    assert "throttled" in body["detail"].lower()
    assert int(response["Retry-After"]) > 0


def test_openapi_schema_and_docs(personas: Personas) -> None:
    client = client_for(personas.agent_a)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/tickets/",
        "/api/v1/tickets/{number}/",
        "/api/v1/tickets/{number}/messages/",
        "/api/v1/customers/",
    } <= set(paths)
    params = {p["name"] for p in paths["/api/v1/tickets/"]["get"]["parameters"]}
    assert {
        "status",
        "kind",
        "mailbox",
        "assignee",
        "team",
        "tag",
        "customer",
        "q",
        "updated_after",
        "cursor",
    } <= params
    assert client.get("/api/docs/").status_code == 200
