"""Full-text search: subjects and message bodies, ranked, highlighted, permission-filtered."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import search, selectors, services

pytestmark = pytest.mark.django_db
SEARCH = reverse("tickets:search")


@pytest.fixture
def agent_a(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent_a)
    return client


def test_finds_subjects_and_bodies_ranked_with_highlights(
    agent_a: Client, personas: Personas
) -> None:
    in_subject = make_ticket(
        personas.mailbox_a, personas.customer, subject="Refund request", body_text="Hello there"
    )
    in_body = make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="Billing question",
        body_text="I would like a refund for the duplicate charge please",
    )
    make_ticket(personas.mailbox_a, personas.customer, subject="Unrelated", body_text="Nothing")
    results = selectors.search_tickets(personas.agent_a, "refunds")
    assert [hit.ticket.number for hit in results.hits] == [in_subject.number, in_body.number]
    assert "<mark>Refund</mark>" in results.hits[0].subject_html
    assert "<mark>refund</mark>" in results.hits[1].snippet_html

    response = agent_a.get(SEARCH, {"q": "refunds"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"#{in_subject.number}" in body and "<mark>refund</mark> for the duplicate" in body


def test_notes_and_replies_are_searchable(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.add_note(ticket, personas.agent_a, "escalated to the kangaroo team")
    hits = selectors.search_tickets(personas.agent_a, "kangaroo").hits
    assert [h.ticket.number for h in hits] == [ticket.number]


def test_search_respects_visibility(personas: Personas) -> None:
    # Subjects without digits: "#<number>" must not match a subject like "Problem 57".
    mine = make_ticket(
        personas.mailbox_a, personas.customer, subject="Parts", body_text="zeppelin parts"
    )
    theirs = make_ticket(personas.mailbox_b, personas.customer, subject="zeppelin order")
    assert [
        h.ticket.number for h in selectors.search_tickets(personas.agent_a, "zeppelin").hits
    ] == [mine.number]
    assert {
        h.ticket.number for h in selectors.search_tickets(personas.manager, "zeppelin").hits
    } == {
        mine.number,
        theirs.number,
    }
    # A visible ticket number jumps to the top; a hidden one finds nothing.
    assert selectors.search_tickets(personas.agent_a, f"#{mine.number}").hits[0].ticket == mine
    assert selectors.search_tickets(personas.agent_a, f"#{theirs.number}").hits == []


def test_snippets_are_escaped(personas: Personas) -> None:
    make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="<img src=x onerror=alert(1)> widget",
        body_text="<script>alert('widget')</script> broken widget",
    )
    hit = selectors.search_tickets(personas.agent_a, "widget").hits[0]
    assert "<script" not in hit.snippet_html and "<mark>widget</mark>" in hit.snippet_html
    assert "<img" not in hit.subject_html and "<mark>widget</mark>" in hit.subject_html


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "!!! & | ( :* '"},
        {"q": '"unterminated phrase'},
        {"q": "-"},
        {"q": "x" * 5000},
        {"q": "printer", "page": "abc"},
        {"q": "printer", "page": "-5"},
        {"q": "#99999999999999999999999"},
    ],
)
def test_odd_queries_never_fail(agent_a: Client, personas: Personas, params) -> None:
    make_ticket(personas.mailbox_a, personas.customer, subject="printer")
    assert agent_a.get(SEARCH, params).status_code == 200


def test_paging(personas: Personas, monkeypatch) -> None:
    monkeypatch.setattr(search, "SEARCH_PAGE_SIZE", 2)
    for _ in range(5):
        make_ticket(personas.mailbox_a, personas.customer, subject="paging test")
    pages = [selectors.search_tickets(personas.agent_a, "paging", page) for page in (1, 2, 3)]
    numbers = [h.ticket.number for p in pages for h in p.hits]
    assert len(numbers) == 5 == len(set(numbers))
    assert pages[0].has_next and not pages[2].has_next


def test_customers_and_wrong_methods(client: Client, personas: Personas) -> None:
    client.force_login(personas.customer.user)
    assert client.get(SEARCH, {"q": "x"}).status_code == 302
    client.force_login(personas.agent_a)
    assert client.post(SEARCH, {"q": "x"}).status_code == 405


def test_a_common_word_still_finds_this_months_tickets(personas: Personas, monkeypatch) -> None:
    """Candidates are capped; they come from the newest months first, not the oldest rows."""
    from datetime import timedelta

    from django.utils import timezone

    monkeypatch.setattr(search, "SEARCH_MESSAGE_CANDIDATES", 3)
    now = timezone.now()
    old = [
        make_ticket(
            personas.mailbox_a,
            personas.customer,
            subject=f"Old question {n}",
            body_text="the wombat printer again",
            at=now - timedelta(days=400 + n),
        )
        for n in range(4)
    ]
    three_months_ago = make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="Three months ago",
        body_text="wombat",
        at=now - timedelta(days=100),
    )
    this_week = make_ticket(
        personas.mailbox_a, personas.customer, subject="New", body_text="wombat", at=now
    )
    found = [hit.ticket.number for hit in selectors.search_tickets(personas.agent_a, "wombat").hits]
    assert found[:2] == [this_week.number, three_months_ago.number]
    assert len(found) == 3 and set(found[2:]) <= {t.number for t in old}

    # Fewer matches than the cap: every one is found, whatever its age, each once.
    monkeypatch.setattr(search, "SEARCH_MESSAGE_CANDIDATES", 50)
    found = [hit.ticket.number for hit in selectors.search_tickets(personas.agent_a, "wombat").hits]
    assert sorted(found) == sorted(
        [this_week.number, three_months_ago.number, *(t.number for t in old)]
    )
    # A query of stop words only matches nothing (not every recent message).
    assert selectors.search_tickets(personas.agent_a, "the").hits == []


def test_older_matches_fill_the_cap_whatever_the_rows_order(
    personas: Personas, monkeypatch
) -> None:
    """Each age band reads only its own months: the last band never takes again a message
    of this month, which a table scan may meet first (stored first, or in freed space)."""
    from datetime import timedelta

    from django.utils import timezone

    monkeypatch.setattr(search, "SEARCH_MESSAGE_CANDIDATES", 3)
    now = timezone.now()
    # The newest first, so that it comes first in the table as well.
    this_week = make_ticket(personas.mailbox_a, personas.customer, body_text="quokka", at=now)
    three_months_ago = make_ticket(
        personas.mailbox_a, personas.customer, body_text="quokka", at=now - timedelta(days=100)
    )
    old = [
        make_ticket(
            personas.mailbox_a,
            personas.customer,
            body_text="the quokka again",
            at=now - timedelta(days=400 + n),
        )
        for n in range(2)
    ]
    found = {hit.ticket.number for hit in selectors.search_tickets(personas.agent_a, "quokka").hits}
    assert len(found) == 3
    assert {this_week.number, three_months_ago.number} < found
    assert len(found & {t.number for t in old}) == 1


def _analyze(monkeypatch) -> None:
    """Fresh planner statistics, read again by the search (its per-process copy expires)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket, tickets_message")
    monkeypatch.setattr(search, "_shares_read_at", -float(search.STATS_SECONDS))
    monkeypatch.setattr(search, "_shares", {})


def _word_everywhere(personas: Personas, count: int) -> list[int]:
    """`count` tickets, oldest first, whose subject and message both say "printer"."""
    return [
        make_ticket(
            personas.mailbox_a,
            personas.customer,
            subject=f"Printer {n}",
            body_text="the printer jams",
        ).number
        for n in range(count)
    ]


def test_a_common_word_is_read_newest_first_from_statistics(
    personas: Personas, monkeypatch
) -> None:
    """A word in most rows (pg_stats) takes the newest-first path: the candidates are the
    newest matches, not the first the GIN bitmap meets."""
    numbers = _word_everywhere(personas, 30)
    make_ticket(personas.mailbox_a, personas.customer, subject="Other", body_text="nothing")
    _analyze(monkeypatch)
    shares = search._query_share("printers")
    assert shares["tickets_ticket"] >= search.COMMON_SHARE["tickets_ticket"]
    assert shares["tickets_message"] >= search.COMMON_SHARE["tickets_message"]
    assert search._query_share("zebra") == {"tickets_ticket": 0.0, "tickets_message": 0.0}
    assert search._query_share("printer or zebra") == {}

    monkeypatch.setattr(search, "SEARCH_MESSAGE_CANDIDATES", 4)
    found = [h.ticket.number for h in selectors.search_tickets(personas.agent_a, "printer").hits]
    assert sorted(found) == sorted(numbers[-4:])


def test_a_multi_word_query_puts_the_best_match_first(personas: Personas, monkeypatch) -> None:
    """Ranking is kept on both paths (GIN lookups for rare words, newest first for words
    in most rows): the ticket with both words in its subject and its message comes
    first, whether it is the oldest match or not."""
    both = make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="Printer toner",
        body_text="The printer toner is empty: toner for the printer, printer toner.",
    )
    others = [
        make_ticket(
            personas.mailbox_a,
            personas.customer,
            subject=f"Printer {n}",
            body_text="the printer toner jams",
        )
        for n in range(20)
    ]
    newest = make_ticket(
        personas.mailbox_a, personas.customer, subject="Billing", body_text="toner and printer"
    )
    for common in (False, True):
        if common:
            _analyze(monkeypatch)
        shares = search._query_share("printer toner")
        assert (
            shares.get("tickets_message", 0) >= search.COMMON_SHARE["tickets_message"]
        ) is common
        hits = selectors.search_tickets(personas.agent_a, "printer toner").hits
        assert hits[0].ticket.number == both.number
        assert {h.ticket.number for h in hits[1:]} == {newest.number, *(t.number for t in others)}
