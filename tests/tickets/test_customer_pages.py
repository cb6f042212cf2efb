"""The customer and organization pages, their edit forms, and the global search finding
people (issue #17, item 1), through the agent workspace's real views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.models import SurveyResponse
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import profiles, services
from tickets.models import Customer, CustomerEmail, Organization, OrganizationDomain, Ticket

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def li_history(personas: Personas) -> dict[str, Ticket]:
    """Li's tickets: one in each mailbox, a reply, an outreach, a CSAT answer."""
    p = personas
    in_a = make_ticket(p.mailbox_a, p.customer, subject="Printer on fire")
    services.reply(in_a, p.agent_a, "We are on it, Li.")
    in_b = make_ticket(p.mailbox_b, p.customer, subject="Secret B matter")
    outreach = services.open_ticket_for_customer(
        agent=p.agent_a,
        mailbox=p.mailbox_a,
        email=p.customer.email,
        name="",
        subject="Checking in on your plan",
        body_text="How is it going?",
        outreach=True,
    )
    SurveyResponse.objects.create(
        kind="csat", score=4, comment="Quick help", customer=p.customer, ticket=in_a
    )
    return {"a": in_a, "b": in_b, "outreach": outreach}


def test_the_customer_page_shows_the_profile_and_a_visible_timeline(
    personas: Personas, li_history: dict[str, Ticket]
) -> None:
    CustomerEmail.objects.create(customer=personas.customer, email="li.wei@home.test")
    page = _client(personas.agent_a).get(f"/customers/{personas.customer.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Li Wei" in html and "li@customer.test" in html and "li.wei@home.test" in html
    assert "Printer on fire" in html and "We are on it, Li." in html
    assert "Outreach" in html and "Checking in on your plan" in html
    assert "CSAT answer: 4 of 5" in html and "Quick help" in html
    # Another team's ticket is not theirs to see, here as anywhere.
    assert "Secret B matter" not in html

    # Agent B sees the profile, their own mailbox's ticket, and nothing of mailbox A.
    other = _client(personas.agent_b).get(f"/customers/{personas.customer.pk}/")
    assert other.status_code == 200
    html = other.content.decode()
    assert "li@customer.test" in html and "Secret B matter" in html
    assert "Printer on fire" not in html and "Quick help" not in html
    # Customers never reach agent pages; an unknown customer is a 404.
    denied = _client(personas.customer.user).get(f"/customers/{personas.customer.pk}/")
    assert denied.status_code in (302, 403)
    assert _client(personas.agent_a).get("/customers/999999/").status_code == 404


def test_the_timeline_pages_newest_first_with_a_fixed_number_of_queries(
    personas: Personas,
) -> None:
    customer = personas.customer
    start = timezone.now() - timedelta(days=30)
    for n in range(30):
        ticket = make_ticket(personas.mailbox_a, customer, subject=f"Issue {n:02d}")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=start + timedelta(hours=n))
        ticket.messages.update(created_at=start + timedelta(hours=n))

    with CaptureQueriesContext(connection) as queries:
        first = profiles.timeline(personas.agent_a, [customer.pk])
    # One query per source: tickets, messages, survey answers (metrics).
    assert len(queries) == 3
    assert len(first.entries) == profiles.TIMELINE_PAGE and first.next_cursor
    keys = [entry.key for entry in first.entries]
    assert keys == sorted(keys, reverse=True)
    assert first.entries[0].title == "Issue 29"

    seen = [(e.source, e.pk) for e in first.entries]
    cursor = first.next_cursor
    while cursor:
        more = profiles.timeline(personas.agent_a, [customer.pk], cursor)
        seen += [(e.source, e.pk) for e in more.entries]
        cursor = more.next_cursor
    # Every ticket and every message once.
    assert len(seen) == len(set(seen)) == 60

    # The page's "Older" link serves the next page (htmx: just the entries).
    client = _client(personas.agent_a)
    url = f"/customers/{customer.pk}/"
    older = client.get(url, {"cursor": first.next_cursor}, HTTP_HX_REQUEST="true")
    assert older.status_code == 200 and "<html" not in older.content.decode()
    assert "Issue 10" in older.content.decode() and "Issue 29" not in older.content.decode()
    # A malformed cursor is the first page, never a 500.
    assert client.get(url, {"cursor": "garbage~x~1"}).status_code == 200

    with CaptureQueriesContext(connection) as page_queries:
        client.get(url)
    # The page's count does not grow with the customer's history.
    for n in range(5):
        make_ticket(personas.mailbox_a, customer, subject=f"More {n}")
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    assert len(again) == len(page_queries)


def test_editing_a_customer_validates_and_saves(personas: Personas) -> None:
    acme = Organization.objects.create(name="Acme")
    client = _client(personas.agent_a)
    url = f"/customers/{personas.customer.pk}/"
    good = {
        "name": "Li Wei",
        "emails": "Li.Wei@Home.test\nli@work.test",
        "phone": "+1 555 0100",
        "organization": "acme",
        "notes": "Prefers email.",
    }

    for field, value, error in [
        ("emails", "not-an-address", "is not an email address"),
        ("emails", "sam@other.test", "belongs to another customer"),
        ("organization", "Nope Inc", "There is no organization named"),
        ("phone", "call me", "Digits, spaces"),
    ]:
        response = client.post(url, {**good, field: value})
        assert response.status_code == 422, field
        assert error in response.content.decode()
    assert not CustomerEmail.objects.exists()

    response = client.post(url, good)
    assert response.status_code == 302
    li = Customer.objects.get(pk=personas.customer.pk)
    assert (li.phone, li.organization, li.notes) == ("+1 555 0100", acme, "Prefers email.")
    assert sorted(li.emails.values_list("email", flat=True)) == [
        "li.wei@home.test",
        "li@work.test",
    ]
    assert "li@work.test" in client.get(url).content.decode()


def test_the_organization_page_edits_domains_and_lists_members(personas: Personas) -> None:
    acme = Organization.objects.create(name="Acme")
    other = Organization.objects.create(name="Other")
    OrganizationDomain.objects.create(organization=other, domain="other.test")
    member = make_customer("ann@acme.test", name="Ann Lee", organization=acme)
    make_ticket(personas.mailbox_a, member, subject="Acme invoice")
    client = _client(personas.agent_a)
    url = f"/organizations/{acme.pk}/"

    page = client.get(url).content.decode()
    assert "Ann Lee" in page and "Acme invoice" in page

    taken = client.post(url, {"name": "Acme", "domains": "other.test", "notes": ""})
    assert taken.status_code == 422
    assert "other.test is already a domain of Other" in taken.content.decode()
    bad = client.post(url, {"name": "Acme", "domains": "not a domain!", "notes": ""})
    assert bad.status_code == 422 and "is not a mail domain" in bad.content.decode()

    saved = client.post(url, {"name": "Acme", "domains": "@ACME.test, acme.example", "notes": ""})
    assert saved.status_code == 302
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme.example", "acme.test"]
    assert services.get_or_create_customer("new@acme.example").organization == acme


def test_search_finds_customers_and_their_visible_tickets(
    personas: Personas, li_history: dict[str, Ticket]
) -> None:
    acme = Organization.objects.create(name="Acme Corporation")
    OrganizationDomain.objects.create(organization=acme, domain="acme.test")
    li = personas.customer
    CustomerEmail.objects.create(customer=li, email="li@acme.test")
    client = _client(personas.agent_a)

    by_address = client.get("/search/", {"q": "li@acme.test"}).content.decode()
    assert f'href="/customers/{li.pk}/"' in by_address
    assert f'href="/organizations/{acme.pk}/"' in by_address  # by its domain

    by_name = client.get("/search/", {"q": "Li Wei"}).content.decode()
    assert f'href="/customers/{li.pk}/"' in by_name
    # All of Li's tickets this agent may see, though no text of theirs names her...
    for ticket in (li_history["a"], li_history["outreach"]):
        assert f'href="/tickets/{ticket.pk}/"' in by_name
    # ...and not the other team's.
    assert f'href="/tickets/{li_history["b"].pk}/"' not in by_name

    typo = client.get("/search/", {"q": "Li Wie"}).content.decode()
    assert f'href="/customers/{li.pk}/"' in typo
    org_typo = client.get("/search/", {"q": "Acme Corporatoin"}).content.decode()
    assert f'href="/organizations/{acme.pk}/"' in org_typo
    assert "Sam Patel" not in typo
