"""The inbox: views, filters, sort, keyset pagination, counts, bulk actions, permissions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket
from tickets import selectors, services
from tickets.models import EventKind, Kind, Priority, Status, Ticket, User
from tickets.selectors import InboxQuery
from tickets.services import Actor
from tickets.templatetags.tandem import inbox_rows

pytestmark = pytest.mark.django_db

INBOX = reverse("tickets:inbox")


def numbers(response) -> list[int]:
    return [int(n) for n in re.findall(r'data-number="(\d+)"', response.content.decode())]


@pytest.fixture
def agent_a(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent_a)
    return client


def test_inbox_lists_own_team_tickets_as_numbers(agent_a: Client, personas: Personas) -> None:
    mine = make_ticket(personas.mailbox_a, personas.customer, subject="Printer jam")
    other = make_ticket(personas.mailbox_b, personas.other_customer, subject="Team B secret")
    response = agent_a.get(INBOX)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"#{mine.number}" in body and "Printer jam" in body
    assert "Team B secret" not in body and other.number not in numbers(response)
    # Scripts come only from our static files: no inline script, htmx served locally.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in body and "/static/tandem/vendor/htmx-2.0.11.min.js" in body


def test_views_filter_by_assignment_and_status(agent_a: Client, personas: Personas) -> None:
    unassigned = make_ticket(personas.mailbox_a, personas.customer)
    mine = make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    pending = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(pending, status=Status.PENDING, assignee=personas.manager)
    solved = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(solved, status=Status.SOLVED)

    assert numbers(agent_a.get(INBOX, {"view": "unassigned"})) == [unassigned.number]
    assert numbers(agent_a.get(INBOX, {"view": "mine"})) == [mine.number]
    assert numbers(agent_a.get(INBOX, {"view": "pending"})) == [pending.number]
    assert numbers(agent_a.get(INBOX, {"view": "solved"})) == [solved.number]
    assert set(numbers(agent_a.get(INBOX, {"view": "open"}))) == {
        unassigned.number,
        mine.number,
        pending.number,
    }


def test_filters_combine(agent_a: Client, personas: Personas) -> None:
    match = make_ticket(
        personas.mailbox_a, personas.customer, priority=Priority.URGENT, tags=["vip"]
    )
    services.update_ticket(match, kind=Kind.SERVICE, assignee=personas.agent_a)
    make_ticket(personas.mailbox_a, personas.customer, priority=Priority.URGENT)
    make_ticket(personas.mailbox_a, personas.customer, tags=["vip"])
    params = {
        "view": "open",
        "priority": "urgent",
        "kind": "service",
        "tag": "VIP",
        "assignee": str(personas.agent_a.pk),
        "mailbox": str(personas.mailbox_a.pk),
    }
    assert numbers(agent_a.get(INBOX, params)) == [match.number]
    assert numbers(agent_a.get(INBOX, {"status": "new", "assignee": "none"})) != []


def test_sort_by_priority_and_created(agent_a: Client, personas: Personas) -> None:
    low = make_ticket(personas.mailbox_a, personas.customer, priority=Priority.LOW)
    urgent = make_ticket(personas.mailbox_a, personas.customer, priority=Priority.URGENT)
    high = make_ticket(personas.mailbox_a, personas.customer, priority=Priority.HIGH)
    services.add_note(low, personas.agent_a, "touch it so it is the most recently updated")
    assert numbers(agent_a.get(INBOX, {"sort": "priority"})) == [
        urgent.number,
        high.number,
        low.number,
    ]
    assert numbers(agent_a.get(INBOX, {"sort": "created"})) == [
        high.number,
        urgent.number,
        low.number,
    ]
    assert numbers(agent_a.get(INBOX))[0] == low.number


@pytest.mark.parametrize("sort", ["updated", "created", "priority"])
def test_keyset_pages_cover_every_ticket_once(personas: Personas, sort: str) -> None:
    created = {
        make_ticket(personas.mailbox_a, personas.customer, priority=p).number
        for p in [Priority.LOW, Priority.HIGH, Priority.NORMAL] * 4
    }
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        page = selectors.inbox_tickets(
            personas.agent_a, InboxQuery(sort=sort, cursor=cursor, limit=5)
        )
        seen += [t.number for t in page.tickets]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_load_more_returns_only_rows(agent_a: Client, personas: Personas) -> None:
    for _ in range(3):
        make_ticket(personas.mailbox_a, personas.customer)
    first = selectors.inbox_tickets(personas.agent_a, InboxQuery(limit=2))
    response = agent_a.get(INBOX, {"cursor": first.next_cursor}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert len(numbers(response)) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"cursor": "99999999999999999999999.1"},
        {"sort": "priority", "cursor": "1.2"},
        {"view": "nope", "status": "bogus", "priority": "x", "assignee": "abc"},
        {"mailbox": "-3", "team": "x", "tag": "a" * 500},
    ],
)
def test_bad_query_strings_never_fail(agent_a: Client, personas: Personas, params) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    assert agent_a.get(INBOX, params).status_code == 200


def _render_inbox_with(client: Client, personas: Personas, rows: int) -> int:
    customers = [make_customer() for _ in range(3)]
    existing = Ticket.objects.count()
    for i in range(rows - existing):
        ticket = make_ticket(personas.mailbox_a, customers[i % 3], tags=["a", "b"])
        if i % 2:
            services.update_ticket(ticket, assignee=personas.agent_a, team=personas.team_a)
    # A process's first page reads the session, the user and the menus of agents,
    # mailboxes and teams into its caches; every page after it reads them from there.
    client.get(INBOX)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX, {"view": "all", "mailbox": personas.mailbox_a.pk})
    assert len(numbers(response)) == min(rows, selectors.PAGE_SIZE)
    body = response.content.decode()
    assert "Mailbox A" in body and "Mailbox B" not in body and "Ana" in body
    return len(queries)


def test_inbox_reads_one_query_for_10_and_100_rows(agent_a: Client, personas: Personas) -> None:
    # The one query: the page of tickets with their customer, assignee and mailbox joined.
    assert _render_inbox_with(agent_a, personas, 10) == 1
    assert _render_inbox_with(agent_a, personas, 100) == 1


def test_mailbox_menus_list_what_each_viewer_sees(client: Client, personas: Personas) -> None:
    def mailboxes(user: User) -> str:
        client.force_login(user)
        body = client.get(INBOX).content.decode()
        return body[body.index('name="mailbox"') : body.index('name="sla"')]

    assert "Mailbox A" in mailboxes(personas.agent_a)
    assert "Mailbox B" not in mailboxes(personas.agent_a)
    assert "Mailbox B" in mailboxes(personas.agent_b)
    assert "Mailbox A" not in mailboxes(personas.agent_b)
    assert "Mailbox A" in mailboxes(personas.manager)
    assert "Mailbox B" in mailboxes(personas.manager)
    personas.team_b.members.add(personas.agent_a)
    assert "Mailbox B" in mailboxes(personas.agent_a)


def test_each_agent_gets_their_own_first_page_however_often_it_is_asked_for(
    client: Client, personas: Personas
) -> None:
    """A page's statement is built once per viewer and query (selectors._STATEMENTS):
    never another viewer's, and a change of teams shows at once."""
    a = make_ticket(personas.mailbox_a, personas.customer)
    b = make_ticket(personas.mailbox_b, personas.customer)
    for _ in range(2):
        for user, mine, theirs in ((personas.agent_a, a, b), (personas.agent_b, b, a)):
            client.force_login(user)
            shown = numbers(client.get(INBOX))
            assert mine.number in shown and theirs.number not in shown
    personas.team_b.members.add(personas.agent_a)
    client.force_login(personas.agent_a)
    assert {a.number, b.number} <= set(numbers(client.get(INBOX)))


@pytest.mark.parametrize("sla", ["", "overdue", "soon", "any"])
def test_later_pages_and_sla_filters_reuse_one_statement(personas: Personas, sla: str) -> None:
    """Each page of a query, whatever its cursor or the time of an SLA filter, runs the
    statement compiled for the first page with a cursor (two per viewer and query), and
    pages through exactly what the plain query gives."""
    now = timezone.now()
    for i in range(7):
        ticket = make_ticket(personas.mailbox_a, personas.customer)
        due = now + timedelta(minutes=[-90, -5, 20, 50, 200, 30, -1][i])
        Ticket.objects.filter(pk=ticket.pk).update(resolution_due_at=due)
    for user in (personas.agent_a, personas.manager):
        query = InboxQuery(view="open", sla=sla, limit=2)
        selectors._STATEMENTS.clear()
        pages, cursor = [], ""
        while True:
            page = selectors.inbox_tickets(user, InboxQuery(**{**query.__dict__, "cursor": cursor}))
            pages.append([t.number for t in page.tickets])
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert len(pages) >= 2 and len(selectors._STATEMENTS) == 2
        assert pages == _plain_pages(user, query)


def test_counts_partial(agent_a: Client, personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer)
    make_ticket(personas.mailbox_a, personas.customer, assignee=personas.agent_a)
    make_ticket(personas.mailbox_b, personas.customer)
    response = agent_a.get(reverse("tickets:counts"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    counts = selectors.inbox_counts(personas.agent_a)
    by_key = {c.key: c.count for c in counts.views}
    assert by_key == {
        "unassigned": 1,
        "mine": 1,
        "open": 2,
        "pending": 0,
        "snoozed": 0,
        "solved": 0,
    }
    assert [m.label for m in counts.mailboxes] == ["Mailbox A"]
    assert 'data-count="2"' in response.content.decode()


def test_mailbox_and_team_views_list_what_their_counts_count(
    agent_a: Client, personas: Personas
) -> None:
    personas.team_b.members.add(personas.agent_a)  # sees both mailboxes now
    in_a = make_ticket(personas.mailbox_a, personas.customer, team=personas.team_a)
    in_b = make_ticket(personas.mailbox_b, personas.customer, team=personas.team_b)
    no_team = make_ticket(personas.mailbox_a, personas.customer)
    solved = make_ticket(personas.mailbox_a, personas.customer, team=personas.team_a)
    services.update_ticket(solved, status=Status.SOLVED)
    counts = selectors.inbox_counts(personas.agent_a)
    listed = {
        item.label: (item.count, set(numbers(agent_a.get(f"{INBOX}?{item.params}"))))
        for item in [*counts.mailboxes, *counts.teams]
    }
    assert listed == {
        "Mailbox A": (2, {in_a.number, no_team.number}),
        "Mailbox B": (1, {in_b.number}),
        "Team A": (1, {in_a.number}),
        "Team B": (1, {in_b.number}),
    }


def test_counts_cap_large_numbers(personas: Personas, monkeypatch) -> None:
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for _ in range(4):
        make_ticket(personas.mailbox_a, personas.customer)
    open_count = next(c for c in selectors.inbox_counts(personas.manager).views if c.key == "open")
    assert open_count.count == 3 and open_count.display == "2+"


def test_bulk_assign_changes_only_visible_tickets(agent_a: Client, personas: Personas) -> None:
    a1 = make_ticket(personas.mailbox_a, personas.customer)
    a2 = make_ticket(personas.mailbox_a, personas.customer)
    b1 = make_ticket(personas.mailbox_b, personas.customer)
    response = agent_a.post(
        reverse("tickets:bulk"),
        {
            "action": "assign",
            "assignee": str(personas.agent_a.pk),
            "tickets": [a1.number, a2.number, b1.number],
            "next": "/?view=mine",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/?view=mine"
    for ticket in (a1, a2, b1):
        ticket.refresh_from_db()
    assert a1.assignee == personas.agent_a and a2.assignee == personas.agent_a
    assert b1.assignee is None
    assert a1.events.filter(kind=EventKind.ASSIGNEE).count() == 1
    assert b1.events.filter(kind=EventKind.ASSIGNEE).count() == 0


def test_bulk_assign_skips_tickets_of_mailboxes_the_assignee_does_not_work_in(
    client: Client, personas: Personas
) -> None:
    a1 = make_ticket(personas.mailbox_a, personas.customer)
    b1 = make_ticket(personas.mailbox_b, personas.customer)
    client.force_login(personas.manager)  # sees both mailboxes
    response = client.post(
        reverse("tickets:bulk"),
        {"action": "assign", "assignee": str(personas.agent_b.pk), "tickets": [a1.pk, b1.pk]},
    )
    assert response.status_code == 302
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert notices == [
        "Updated 1 ticket.",
        "Left unchanged: 1 ticket in mailboxes Ben does not work in.",
    ]
    a1.refresh_from_db()
    b1.refresh_from_db()
    assert (a1.assignee, b1.assignee) == (None, personas.agent_b)
    # A manager may hold any ticket.
    client.post(
        reverse("tickets:bulk"),
        {"action": "assign", "assignee": str(personas.manager.pk), "tickets": [a1.pk, b1.pk]},
    )
    a1.refresh_from_db()
    assert a1.assignee == personas.manager


def test_bulk_status_tag_kind(agent_a: Client, personas: Personas) -> None:
    t1 = make_ticket(personas.mailbox_a, personas.customer, tags=["old"])
    t2 = make_ticket(personas.mailbox_a, personas.customer)
    url = reverse("tickets:bulk")
    agent_a.post(url, {"action": "status", "status": "pending", "tickets": [t1.number, t2.number]})
    agent_a.post(url, {"action": "tag", "tag": "Needs Review", "tickets": [t1.number, t2.number]})
    agent_a.post(url, {"action": "kind", "kind": "service", "tickets": [t1.number]})
    t1.refresh_from_db()
    t2.refresh_from_db()
    assert (t1.status, t2.status) == (Status.PENDING, Status.PENDING)
    assert t1.tags == ["needs-review", "old"] and t2.tags == ["needs-review"]
    assert (t1.kind, t2.kind) == (Kind.SERVICE, Kind.SUPPORT)
    assert t1.events.filter(kind=EventKind.TAGS).count() == 1


def test_bulk_reports_closed_tickets_it_cannot_reopen(agent_a: Client, personas: Personas) -> None:
    closed = make_ticket(personas.mailbox_a, personas.customer)
    services.update_ticket(closed, status=Status.CLOSED)
    response = agent_a.post(
        reverse("tickets:bulk"),
        {"action": "status", "status": "open", "tickets": [closed.number]},
        follow=True,
    )
    page = response.content.decode()
    assert "Left unchanged: 1 closed ticket, which cannot be reopened." in page
    assert "Updated" not in page and "Nothing to change" not in page
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED


def test_bulk_says_so_when_nothing_needed_a_change(agent_a: Client, personas: Personas) -> None:
    pending = [make_ticket(personas.mailbox_a, personas.customer) for _ in range(2)]
    url = reverse("tickets:bulk")
    numbers = [t.number for t in pending]
    # Followed: the inbox shows (and so spends) the first notice.
    first = agent_a.post(
        url, {"action": "status", "status": "pending", "tickets": numbers}, follow=True
    )
    assert "Updated 2 tickets." in first.content.decode()
    again = agent_a.post(url, {"action": "status", "status": "pending", "tickets": numbers})
    assert [str(m) for m in get_messages(again.wsgi_request)] == [
        "Nothing to change: the selected tickets already were that way."
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign", "assignee": "", "tickets": ["1"]},
        {"action": "status", "status": "", "tickets": ["1"]},
        {"action": "tag", "tag": "   ", "tickets": ["1"]},
        {"action": "explode", "tickets": ["1"]},
        {"action": "kind", "kind": "service", "tickets": ["x"]},
        {"action": "kind", "kind": "service"},
    ],
)
def test_bulk_rejects_bad_input(agent_a: Client, personas: Personas, data) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = agent_a.post(reverse("tickets:bulk"), data, follow=True)
    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()
    assert ticket.events.count() == 2


def test_bulk_ignores_an_offsite_next(agent_a: Client, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = agent_a.post(
        reverse("tickets:bulk"),
        {
            "action": "kind",
            "kind": "service",
            "tickets": [ticket.number],
            "next": "https://evil.test/",
        },
    )
    assert response["Location"] == INBOX


def test_wrong_methods_and_anonymous(client: Client, personas: Personas) -> None:
    assert client.get(INBOX).status_code == 302
    client.force_login(personas.agent_a)
    assert client.post(INBOX).status_code == 405
    assert client.get(reverse("tickets:bulk")).status_code == 405


def test_customers_never_get_the_inbox(client: Client, personas: Personas) -> None:
    client.force_login(personas.customer.user)
    response = client.get(INBOX)
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.get(reverse("tickets:counts"), headers={"HX-Request": "true"}).status_code == 404
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = client.post(
        reverse("tickets:bulk"), {"action": "kind", "kind": "service", "tickets": [ticket.number]}
    )
    assert response.status_code == 404


def test_manager_sees_every_mailbox(client: Client, personas: Personas) -> None:
    a = make_ticket(personas.mailbox_a, personas.customer)
    b = make_ticket(personas.mailbox_b, personas.customer)
    client.force_login(personas.manager)
    assert set(numbers(client.get(INBOX))) == {a.number, b.number}
    services.update_ticket(a, actor=Actor.agent(personas.manager), team=personas.team_a)
    assert numbers(client.get(INBOX, {"team": personas.team_a.pk})) == [a.number]


# The inbox rows as the template wrote them before tickets.templatetags.tandem.inbox_rows
# rendered them in Python: the markup and escaping must stay exactly this.
ROWS_AS_A_TEMPLATE = """{% load tandem workflow_tags %}{% for ticket in tickets %}
    <tr class="ticket-row status-{{ ticket.status }}" data-href="{{ detail_prefix }}{{ ticket.number }}/" data-number="{{ ticket.number }}">
      <td class="col-check"><input type="checkbox" name="tickets" value="{{ ticket.number }}" form="bulk-form" aria-label="Select #{{ ticket.number }}"></td>
      <td class="col-num"><a href="{{ detail_prefix }}{{ ticket.number }}/" class="num">#{{ ticket.number }}</a></td>
      <td class="col-subject">
        <a href="{{ detail_prefix }}{{ ticket.number }}/" class="subject">{{ ticket.subject }}</a>
        <div class="meta">{{ ticket.customer.name|default:ticket.customer.email }} · {{ ticket.mailbox.name }}{% if ticket.kind == "service" %} · <span class="pill pill-service">Service</span>{% endif %}{% for tag in ticket.tags %} <span class="tag">{{ tag }}</span>{% endfor %}</div>
      </td>
      <td><span class="badge badge-{{ ticket.status }}">{{ ticket.get_status_display }}</span></td>
      <td><span class="prio prio-{{ ticket.priority }}">{{ ticket.get_priority_display }}</span>{% with due=ticket|sla_badge %}{% if due %}<div class="wf-due wf-sla-{{ due.state }}" title="{{ due.label }} due {{ due.due }}">{{ due.label }} {{ due.text }}</div>{% endif %}{% endwith %}</td>
      <td>{% if ticket.assignee %}<span class="who"><span class="avatar avatar-sm">{{ ticket.assignee.display_name|initials }}</span>{{ ticket.assignee.display_name }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>
      <td class="col-time"><time datetime="{{ ticket.updated_at|date:'c' }}" title="{{ ticket.updated_at }}">{{ ticket.updated_at|ago }}</time></td>
    </tr>
  {% endfor %}"""  # noqa: E501


def test_inbox_rows_render_what_the_row_template_rendered(personas: Personas) -> None:
    now = timezone.now()
    nameless = make_customer("o'brien+<x>@example.test")
    named = make_customer(name='Ann "A&B" <Smith>')
    plain = make_ticket(personas.mailbox_a, nameless, subject="<script>alert('x')</script> & co")
    tagged = make_ticket(personas.mailbox_a, named, tags=["vip", "a<b", "x&y"], kind=Kind.SERVICE)
    services.update_ticket(tagged, assignee=personas.agent_a, priority=Priority.URGENT)
    overdue = make_ticket(personas.mailbox_b, named, assignee=personas.manager)
    Ticket.objects.filter(pk=overdue.pk).update(
        first_response_due_at=now - timedelta(hours=3),
        resolution_due_at=now + timedelta(minutes=30),
    )
    soon = make_ticket(personas.mailbox_b, nameless)
    Ticket.objects.filter(pk=soon.pk).update(resolution_due_at=now + timedelta(minutes=20))
    solved = make_ticket(personas.mailbox_a, nameless)
    services.update_ticket(solved, status=Status.SOLVED)
    tickets = list(
        Ticket.objects.select_related("customer", "assignee", "mailbox").order_by("number")
    )
    assert {plain, tagged, overdue, soon, solved} <= set(tickets)
    reference = engines["django"].from_string(ROWS_AS_A_TEMPLATE)

    for zone in ("UTC", "America/New_York"):
        with timezone.override(zone):
            expected = reference.render({"tickets": tickets, "detail_prefix": "/t/"})
            assert inbox_rows(tickets, "/t/") == expected
    assert "wf-sla-overdue" in expected and "wf-sla-soon" in expected
    assert "&lt;script&gt;" in expected and "Ann &quot;A&amp;B&quot;" in expected
    assert inbox_rows([], "/t/") == ""


def _plain_pages(user, query: InboxQuery) -> list[list[int]]:
    """Every page as the plain query (newest first over all visible tickets) gives it."""
    ordered = selectors.filtered_tickets(user, query).order_by("-updated_at", "-number")
    numbers = list(ordered.values_list("number", flat=True))
    return [numbers[i : i + query.limit] for i in range(0, len(numbers), query.limit)] or [[]]


def _pages(user, query: InboxQuery) -> list[list[int]]:
    pages, cursor = [], ""
    while True:
        page = selectors.inbox_tickets(user, InboxQuery(**{**query.__dict__, "cursor": cursor}))
        pages.append([t.number for t in page.tickets])
        cursor = page.next_cursor
        if not cursor:
            return pages


def test_agents_pages_are_read_per_mailbox_with_the_same_rows(personas: Personas) -> None:
    from tests.factories import make_mailbox, make_user

    third = make_mailbox(teams=[personas.team_b], name="Mailbox C")
    both = make_user(teams=[personas.team_a, personas.team_b])
    tickets = []
    for n in range(36):
        mailbox = [personas.mailbox_a, personas.mailbox_b, third][n % 3]
        ticket = make_ticket(
            mailbox, personas.customer, tags=["vip"] if n % 4 == 0 else [], priority=Priority.HIGH
        )
        # Only someone who works in the ticket's mailbox may hold it.
        holder = personas.agent_a if mailbox == personas.mailbox_a else both
        changes = [{}, {"status": Status.PENDING}, {"assignee": holder}]
        if n % 5 == 0:
            changes.append({"status": Status.SOLVED})
        services.update_ticket(ticket, **changes[n % len(changes)])
        if n % 10 == 0:
            services.update_ticket(ticket, status=Status.CLOSED)
        tickets.append(ticket)
    # Ties on updated_at across mailboxes and statuses: the number decides, as in the index.
    tied = timezone.now()
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[5:20]]).update(updated_at=tied)
    queries = [
        InboxQuery(view=view, limit=limit)
        for view in ("open", "unassigned", "mine", "pending", "solved", "all")
        for limit in (2, 7)
    ] + [
        InboxQuery(view="all", status=Status.PENDING, limit=3),
        InboxQuery(view="open", tag="vip", limit=2),
        InboxQuery(view="open", mailbox=personas.mailbox_b.pk, limit=2),
        InboxQuery(view="open", assignee="none", limit=3),
        InboxQuery(view="all", assignee=str(personas.agent_a.pk), limit=2),
        InboxQuery(view="solved", sla="any", limit=3),
        InboxQuery(view="open", sla="any", limit=3),
        InboxQuery(view="unassigned", status=Status.OPEN, sla="any", limit=2),
    ]
    for user in (personas.agent_a, personas.agent_b, both):
        for query in queries:
            assert _pages(user, query) == _plain_pages(user, query), (user, query)
    with CaptureQueriesContext(connection) as captured:
        selectors.inbox_tickets(both, InboxQuery())
    sql = captured[0]["sql"]
    assert len(captured) == 1 and "unnest" in sql
    # Each (mailbox, status) scan names its one status, never the view's status set too:
    # with both, PostgreSQL multiplies their selectivities and reads the wrong index
    # (docs/benchmarks.md, the fifth session's second run).
    arrays = [part.split("LIMIT")[0] for part in sql.split("ARRAY(")[1:]]
    scans = [scan for scan in arrays if "ORDER BY" in scan]  # not the agent's mailboxes
    assert len(scans) == 4
    assert all('"status" = ' in scan and '"status" IN' not in scan for scan in scans)


def test_assignee_lists_show_every_agent_escaped_and_the_filter_chosen(
    agent_a: Client, personas: Personas
) -> None:
    personas.agent_b.first_name = 'Bo <b>"Bold"</b>'
    personas.agent_b.save(update_fields=["first_name"])
    html = agent_a.get(reverse("tickets:inbox"), {"assignee": personas.agent_b.pk}).content
    page = html.decode()
    chosen = re.findall(r'<option value="(\d+)" selected>', page)
    # The filter shows the agent chosen; the bulk form's list chooses nobody.
    assert chosen == [str(personas.agent_b.pk)]
    for agent in (personas.agent_a, personas.agent_b, personas.manager, personas.admin):
        assert page.count(f'<option value="{agent.pk}"') == 2
    assert "Bo &lt;b&gt;&quot;Bold&quot;&lt;/b&gt;" in page and "<b>" not in page
