"""People in search (tickets.profiles.search_people) and the search page's queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import profiles
from tickets.models import Customer, Organization, OrganizationDomain

pytestmark = pytest.mark.django_db
SEARCH = reverse("tickets:search")


def _names(results: profiles.PeopleResults) -> list[str]:
    return [customer.name for customer in results.customers]


def test_an_exact_name_comes_before_names_that_contain_it(personas: Personas) -> None:
    Customer.objects.create(email="ann@x.test", name="Ann Lee")
    Customer.objects.create(email="lee@x.test", name="Lee")
    # Both contain "lee" as a whole word (word similarity 1); by name alone "Ann Lee"
    # came first.
    assert _names(profiles.search_people(personas.agent_a, "lee")) == ["Lee", "Ann Lee"]


def test_a_typo_is_looked_for_only_when_nothing_matches_outright(personas: Personas) -> None:
    Customer.objects.create(email="kim@x.test", name="Kim Novak")
    Customer.objects.create(email="other.kim@x.test", name="Kim Novka")
    # Before, every substring match and every name a typo away, together.
    assert _names(profiles.search_people(personas.agent_a, "Novak")) == ["Kim Novak"]
    misspelt = _names(profiles.search_people(personas.agent_a, "Kim Novakk"))
    assert sorted(misspelt) == ["Kim Novak", "Kim Novka"]


def test_a_common_word_in_many_names_still_puts_the_exact_one_first(personas: Personas) -> None:
    Customer.objects.bulk_create(
        Customer(email=f"printer{n}@x.test", name=f"Printer Admin {n}")
        for n in range(profiles.PEOPLE_CANDIDATES + 50)
    )
    exact = Customer.objects.create(email="p@x.test", name="printer")
    found = profiles.search_people(personas.agent_a, "Printer")
    assert found.customers[0] == exact
    assert len(found.customers) == profiles.PEOPLE_LIMIT


def test_ticket_and_member_counts(personas: Personas) -> None:
    acme = Organization.objects.create(name="Acme Corporation")
    OrganizationDomain.objects.create(organization=acme, domain="acme.test")
    li = personas.customer
    li.name, li.organization = "Li Wei", acme
    li.save(update_fields=["name", "organization"])
    make_ticket(personas.mailbox_a, li)
    make_ticket(personas.mailbox_a, li)
    make_ticket(personas.mailbox_b, li)
    seen_by_a = profiles.search_people(personas.agent_a, "Li Wei")
    assert [(c, c.ticket_count) for c in seen_by_a.customers] == [(li, 2)]
    seen_by_manager = profiles.search_people(personas.manager, "Li Wei")
    assert [c.ticket_count for c in seen_by_manager.customers] == [3]
    by_domain = profiles.search_people(personas.agent_a, "acme.test")
    assert [(o, o.member_count) for o in by_domain.organizations] == [(acme, 1)]
    # Wildcards in the query are text, not patterns.
    assert not profiles.search_people(personas.agent_a, "%_%")


def _page_queries(client: Client, text: str) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SEARCH, {"q": text})
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries], response.content.decode()


def test_search_page_query_count(client: Client, personas: Personas) -> None:
    Customer.objects.bulk_create(
        Customer(email=f"printer{n}@x.test", name=f"Printer Admin {n}") for n in range(30)
    )
    make_ticket(personas.mailbox_a, personas.customer, subject="Printer on fire")
    client.force_login(personas.agent_a)
    # A process's first search reads the session, the user, whether pg_trgm is there
    # and the lexemes' statistics into its caches; every search after it, from there.
    _page_queries(client, "printer")
    _page_queries(client, "Printer Admn")
    queries, body = _page_queries(client, "printer")
    assert "on fire" in body and "Printer Admin 1" in body
    # The customers the query names, the ranked ticket ids, their tickets, their
    # snippets; people: the ids of both kinds, the customers shown with their counts.
    assert len(queries) == 6, queries
    # A misspelt name: no ticket matches (so none is read), nor does any name outright,
    # so the typo search runs in a transaction of its own (savepoint, threshold, ids,
    # release): named, ticket ids, people ids, those four, the customers shown.
    queries, body = _page_queries(client, "Printer Admn")
    assert "Printer Admin 1" in body and "No tickets match" in body
    assert len(queries) == 8, queries


def test_without_pg_trgm_substrings_are_found_by_name(personas: Personas, monkeypatch) -> None:
    # The embedded PostgreSQL of `make run` has no pg_trgm: no similarity, no typos.
    monkeypatch.setattr(profiles, "trigram_available", lambda: False)
    Customer.objects.create(email="b@x.test", name="Printer Beta")
    Customer.objects.create(email="a@x.test", name="Printer Alpha")
    assert _names(profiles.search_people(personas.agent_a, "printer")) == [
        "Printer Alpha",
        "Printer Beta",
    ]
    assert not profiles.search_people(personas.agent_a, "Printer Alpah")
