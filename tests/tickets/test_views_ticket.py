"""The ticket page: conversation, reply and note, changes in place, attachments, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from feedback import services as feedback_services
from helpdesk import encryption
from metrics.models import SurveyResponse
from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.models import (
    ActorKind,
    Attachment,
    DeliveryStatus,
    Direction,
    EventKind,
    Kind,
    Mailbox,
    Priority,
    Status,
    Ticket,
)
from tickets.services import Actor
from tickets.workflow import setup
from tickets.workflow.models import Reminder, SlaPolicy

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(
        personas.mailbox_a, personas.customer, subject="Printer on fire", body_text="Help\nnow"
    )


@pytest.fixture
def agent_a(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent_a)
    return client


def url(name: str, ticket: Ticket) -> str:
    return reverse(f"tickets:{name}", args=[ticket.number])


def test_conversation_oldest_first_with_distinct_kinds(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    services.reply(ticket, personas.agent_a, "We are looking into it")
    services.add_note(ticket, personas.agent_a, "Customer is on the VIP plan")
    failed = services.reply(ticket, personas.agent_a, "Second reply")
    failed.delivery_status = DeliveryStatus.FAILED
    failed.delivery_error = "550 mailbox unavailable"
    failed.save(update_fields=["delivery_status", "delivery_error"])
    body = agent_a.get(url("detail", ticket)).content.decode()
    positions = [
        body.index(text)
        for text in ("Help<br>now", "We are looking into it", "VIP plan", "Second reply")
    ]
    assert positions == sorted(positions)
    assert 'class="msg msg-inbound' in body and 'class="msg msg-outbound' in body
    assert 'class="msg msg-note' in body and "not visible to the customer" in body
    assert "Queued" in body and "Not delivered: 550 mailbox unavailable" in body


def test_html_bodies_render_sanitized_html_and_text_is_escaped(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    services.add_message(
        ticket, direction=Direction.INBOUND, body_text="<script>x()</script>", body_html=""
    )
    services.add_message(
        ticket, direction=Direction.INBOUND, body_text="bold", body_html="<p><b>bold</b></p>"
    )
    body = agent_a.get(url("detail", ticket)).content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in body and "<script>x()" not in body
    assert "<p><b>bold</b></p>" in body


def test_customer_panel_lists_their_other_visible_tickets(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    other = make_ticket(personas.mailbox_a, personas.customer, subject="Earlier question")
    hidden = make_ticket(personas.mailbox_b, personas.customer, subject="Other team's ticket")
    body = agent_a.get(url("detail", ticket)).content.decode()
    assert f"#{other.number}" in body and "Earlier question" in body
    assert "Other team&#x27;s ticket" not in body and hidden.subject not in body


def test_the_ticket_page_decrypts_no_mailbox_secret(
    agent_a: Client, personas: Personas, ticket: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mailbox's IMAP and SMTP passwords and webhook secret stay in the database (a
    page never shows them): none is loaded and decrypted for a page."""
    Mailbox.objects.filter(pk=personas.mailbox_a.pk).update(
        imap_password=encryption.encrypt("imap-secret"),
        smtp_password=encryption.encrypt("smtp-secret"),
    )
    decrypted: list[str] = []
    real = encryption.decrypt
    monkeypatch.setattr(encryption, "decrypt", lambda token: decrypted.append(real(token)) or "")
    response = agent_a.get(url("detail", ticket))
    assert response.status_code == 200
    assert decrypted == []


def test_ticket_page_reads_six_queries_whatever_its_messages(
    agent_a: Client,
    personas: Personas,
    ticket: Ticket,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Every panel filled: an SLA policy, another ticket of the customer, survey answers
    on this ticket and another, a reminder, messages with attachments."""
    with django_capture_on_commit_callbacks(execute=True):
        policy = setup.save_policy(
            SlaPolicy(
                name="Gold", priority=ticket.priority, first_response_hours=1, resolution_hours=8
            )
        )
    Ticket.objects.filter(pk=ticket.pk).update(sla_policy=policy)
    earlier = make_ticket(personas.mailbox_a, personas.customer, subject="Earlier question")
    for answered, comment in ((ticket, "Quick and kind"), (earlier, "Slow at first")):
        SurveyResponse.objects.create(
            kind="csat", score=4, ticket=answered, customer=personas.customer, comment=comment
        )
    Reminder.objects.create(
        ticket=ticket, agent=personas.agent_a, remind_at=timezone.now() + timedelta(days=1)
    )
    wanted = feedback_services.create_item(personas.agent_a, title="CSV export")
    feedback_services.link_ticket(wanted, ticket, personas.agent_a)
    feedback_services.create_item(personas.agent_a, title="Dark mode")

    def page() -> tuple[list[str], str]:
        with CaptureQueriesContext(connection) as queries:
            response = agent_a.get(url("detail", ticket))
        assert response.status_code == 200
        return [q["sql"] for q in queries.captured_queries], response.content.decode()

    services.reply(ticket, personas.agent_a, "one")
    services.update_ticket(ticket, actor=Actor.agent(personas.agent_a), assignee=personas.agent_a)
    # A process's first page reads the session, the user and the menus of agents and
    # teams into its caches; every page after it reads them from there.
    page()
    few, body = page()
    assert "Gold" in body and "Earlier question" in body and "⏰" in body
    assert "assigned to Ana" in body
    assert "Quick and kind" in body and "Slow at first" in body
    assert f"/feedback/tickets/{ticket.pk}/panel/" in body  # the panel comes after
    for i in range(10):
        message = services.add_note(ticket, personas.agent_a, f"note {i}")
        Attachment.objects.create(
            message=message, file=ContentFile(b"x", name="a.txt"), filename=f"{i}.txt", size=1
        )
    many, body = page()
    assert "note 9" in body and "9.txt" in body
    # 1. the ticket, with its mailbox, customer, organization, assignee and team
    # 2. its messages with their authors and attachments
    # 3. its events
    # 4. the customer's other tickets this agent may see
    # 5. the survey answers of the ticket and of the customer (both panels)
    # 6. the agent's open reminders on it
    # (the feedback and assist panels come after the page, by their own requests)
    assert len(few) == len(many) == 6, "\n".join(many)


def test_ticket_page_statements_are_planned_once_per_connection(
    agent_a: Client, ticket: Ticket
) -> None:
    """The page's six statements are prepared on the server: PostgreSQL parses and plans
    each once per connection, not on every page (planning the ticket's five-way join
    cost it more than running it)."""

    def prepared() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            )
            return dict(cursor.fetchall())

    assert agent_a.get(url("detail", ticket)).status_code == 200
    before = prepared()
    for _ in range(2):
        assert agent_a.get(url("detail", ticket)).status_code == 200
    after = prepared()
    assert set(after) == set(before), "a statement was prepared again"
    ran_twice = [statement for statement, runs in after.items() if runs - before[statement] == 2]
    # By the table of their first column: the ticket, its messages, its events, the
    # customer's other tickets, the survey answers, the agent's reminders.
    tables = sorted(statement.split('"')[1] for statement in ran_twice)
    assert tables == [
        "metrics_surveyresponse",
        "tickets_message",
        "tickets_reminder",
        "tickets_ticket",
        "tickets_ticket",
        "tickets_ticketevent",
    ]


def test_property_menus_show_changes_to_agents_and_teams_on_the_next_page(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    def menus() -> str:
        body = agent_a.get(url("detail", ticket)).content.decode()
        return body[body.index('id="prop-assignee"') : body.index('id="prop-tags"')]

    # Ben works in team B only: he may not hold a ticket of mailbox A.
    assert ">Ana</option>" in menus() and ">Ben</option>" not in menus()
    personas.team_a.members.add(personas.agent_b)
    assert ">Ben</option>" in menus()
    personas.team_a.name = "Front line"
    personas.team_a.save()
    assert ">Front line</option>" in menus() and ">Team A</option>" not in menus()
    personas.agent_b.first_name = "Benedict"
    personas.agent_b.save()
    assert ">Benedict</option>" in menus()
    personas.agent_b.is_active = False
    personas.agent_b.save()
    assert ">Benedict</option>" not in menus()


def test_reply_with_status_after(agent_a: Client, personas: Personas, ticket: Ticket) -> None:
    response = agent_a.post(
        url("reply", ticket), {"body": "Fixed it", "status_after": "pending"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="thread"' in html and "Fixed it" in html and 'hx-swap-oob="true"' in html
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    message = ticket.messages.get(direction=Direction.OUTBOUND)
    assert message.author == personas.agent_a
    assert message.delivery_status == DeliveryStatus.QUEUED


def test_note_without_htmx_redirects(agent_a: Client, personas: Personas, ticket: Ticket) -> None:
    response = agent_a.post(url("note", ticket), {"body": "Internal only"})
    assert response.status_code == 302 and response["Location"] == url("detail", ticket)
    note = ticket.messages.get(direction=Direction.NOTE)
    assert note.body_text == "Internal only" and note.delivery_status == ""


def test_reply_keeps_or_changes_the_thread_cc(agent_a: Client, ticket: Ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(cc=["boss@customer.test"])
    page = agent_a.get(url("detail", ticket)).content.decode()
    assert 'name="cc" id="reply-cc"' in page and 'value="boss@customer.test"' in page

    cc = "boss@customer.test; Ana <ana@customer.test>"
    agent_a.post(url("reply", ticket), {"body": "Copying a colleague", "cc": cc}, headers=HTMX)
    message = ticket.messages.filter(direction=Direction.OUTBOUND).latest("id")
    assert message.cc == ["boss@customer.test", "ana@customer.test"]
    ticket.refresh_from_db()
    assert ticket.cc == ["ana@customer.test", "boss@customer.test"]

    agent_a.post(url("reply", ticket), {"body": "Just you now", "cc": ""}, headers=HTMX)
    assert ticket.messages.filter(direction=Direction.OUTBOUND).latest("id").cc == []
    ticket.refresh_from_db()
    assert ticket.cc == []


@pytest.mark.parametrize(
    "data",
    [
        {"body": ""},
        {"body": "x" * 100_001},
        {"body": "ok", "status_after": "closed!"},
        {"body": "ok", "cc": "boss@customer.test, not an address"},
        {"body": "ok", "cc": ",".join(f"p{n}@customer.test" for n in range(21))},
    ],
)
def test_reply_validation(agent_a: Client, ticket: Ticket, data) -> None:
    response = agent_a.post(url("reply", ticket), data, headers=HTMX)
    assert response.status_code == 422
    assert "field-error" in response.content.decode()
    assert ticket.messages.count() == 1


def test_update_in_place(agent_a: Client, personas: Personas, ticket: Ticket) -> None:
    update = url("update", ticket)
    for data in (
        {"status": "pending"},
        {"priority": "urgent"},
        {"kind": "service"},
        {"assignee": str(personas.agent_a.pk)},
        {"team": str(personas.team_a.pk)},
        {"tags": "Billing, vip , billing"},
    ):
        response = agent_a.post(update, data, headers=HTMX)
        assert response.status_code == 200, data
        assert 'id="properties"' in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.kind) == (
        Status.PENDING,
        Priority.URGENT,
        Kind.SERVICE,
    )
    assert ticket.assignee == personas.agent_a and ticket.team == personas.team_a
    assert ticket.tags == ["billing", "vip"]
    kinds = list(ticket.events.values_list("kind", flat=True))
    for kind in ("status", "priority", "kind", "assignee", "team", "tags"):
        assert kinds.count(kind) == 1
    agent_a.post(update, {"assignee": ""}, headers=HTMX)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_update_shows_invalid_change(agent_a: Client, ticket: Ticket) -> None:
    services.update_ticket(ticket, status=Status.CLOSED)
    response = agent_a.post(url("update", ticket), {"status": "open"}, headers=HTMX)
    assert response.status_code == 422
    assert "cannot be reopened" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


@pytest.mark.parametrize(
    "data",
    [
        {"status": "exploded"},
        {"priority": ""},
        {"assignee": "999999"},
        {"assignee": "abc"},
        {"team": "-1"},
        {"tags": ",".join(f"t{i}" for i in range(31))},
        {},
    ],
)
def test_update_validation(agent_a: Client, personas: Personas, ticket: Ticket, data) -> None:
    response = agent_a.post(url("update", ticket), data, headers=HTMX)
    assert response.status_code == 422
    assert "flash-error" in response.content.decode()
    assert not ticket.events.exclude(kind__in=[EventKind.CREATED, EventKind.MESSAGE]).exists()


def test_cannot_assign_an_agent_outside_the_mailbox_teams(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    response = agent_a.post(url("update", ticket), {"assignee": personas.agent_b.pk}, headers=HTMX)
    assert response.status_code == 422
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_other_teams_ticket_is_404_everywhere(agent_a: Client, personas: Personas) -> None:
    other = make_ticket(personas.mailbox_b, personas.other_customer)
    assert agent_a.get(url("detail", other)).status_code == 404
    assert agent_a.post(url("reply", other), {"body": "hi"}).status_code == 404
    assert agent_a.post(url("note", other), {"body": "hi"}).status_code == 404
    assert agent_a.post(url("update", other), {"status": "solved"}).status_code == 404
    assert agent_a.get("/tickets/999999/").status_code == 404
    # The ticket page's other endpoints answer the same, so numbers cannot be probed.
    base = f"/tickets/{other.number}"
    first = other.messages.get()
    for path in (f"{base}/presence/", f"{base}/canned/", f"{base}/attachments/1/"):
        assert agent_a.get(path).status_code == 404, path
    for path, data in [
        (f"{base}/presence/", {}),
        (f"{base}/snooze/", {"until": "2099-01-01T09:00"}),
        (f"{base}/remind/", {"remind_at": "2099-01-01T09:00"}),
        (f"{base}/merge/", {"into": "1"}),
        (f"{base}/split/{first.pk}/", {}),
    ]:
        assert agent_a.post(path, data).status_code == 404, path
    other.refresh_from_db()
    assert other.status == Status.NEW and other.messages.count() == 1


def test_wrong_methods(agent_a: Client, ticket: Ticket) -> None:
    assert agent_a.post(url("detail", ticket)).status_code == 405
    assert agent_a.get(url("reply", ticket)).status_code == 405
    assert agent_a.get(url("note", ticket)).status_code == 405
    assert agent_a.get(url("update", ticket)).status_code == 405


def test_customer_gets_no_agent_screens(client: Client, personas: Personas, ticket: Ticket) -> None:
    client.force_login(personas.customer.user)
    assert client.get(url("detail", ticket)).status_code == 302
    assert client.post(url("reply", ticket), {"body": "x"}).status_code == 404
    assert client.post(url("update", ticket), {"status": "solved"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def _attachment(ticket: Ticket, name: str, content_type: str, data: bytes) -> Attachment:
    message = ticket.messages.first()
    return Attachment.objects.create(
        message=message,
        file=ContentFile(data, name=name),
        filename=name,
        content_type=content_type,
        size=len(data),
    )


def test_attachments_are_listed_and_served_safely(
    agent_a: Client, personas: Personas, ticket: Ticket, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    html = _attachment(ticket, "evil.html", "text/html", b"<script>alert(1)</script>")
    image = _attachment(ticket, "shot.png", "image/png", b"\x89PNG fake")
    page = agent_a.get(url("detail", ticket)).content.decode()
    html_url = reverse("tickets:attachment", args=[ticket.number, html.pk])
    assert html_url in page and "evil.html" in page

    response = agent_a.get(html_url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"

    response = agent_a.get(reverse("tickets:attachment", args=[ticket.number, image.pk]))
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Type"] == "image/png"

    other = make_ticket(personas.mailbox_b, personas.other_customer)
    secret = _attachment(other, "secret.pdf", "application/pdf", b"%PDF")
    assert (
        agent_a.get(reverse("tickets:attachment", args=[other.number, secret.pk])).status_code
        == 404
    )
    # The right attachment under the wrong ticket number is a 404 too.
    assert (
        agent_a.get(reverse("tickets:attachment", args=[ticket.number, secret.pk])).status_code
        == 404
    )


def test_reply_and_note_with_attachments(
    agent_a: Client, ticket: Ticket, settings, tmp_path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    files = [
        SimpleUploadedFile("quote.pdf", b"%PDF-1.4", content_type="application/pdf"),
        SimpleUploadedFile("..\\..\\log.txt", b"line", content_type="text/plain"),
    ]
    response = agent_a.post(
        url("reply", ticket), {"body": "Files attached", "attachments": files}, headers=HTMX
    )
    assert response.status_code == 200
    message = ticket.messages.get(direction=Direction.OUTBOUND)
    stored = sorted(message.attachments.values_list("filename", "size", "content_type"))
    assert stored == [("log.txt", 4, "text/plain"), ("quote.pdf", 8, "application/pdf")]
    assert "quote.pdf" in response.content.decode()

    note_file = SimpleUploadedFile("internal.csv", b"a,b", content_type="text/csv")
    agent_a.post(url("note", ticket), {"body": "See file", "attachments": [note_file]})
    assert (
        ticket.messages.get(direction=Direction.NOTE).attachments.get().filename == "internal.csv"
    )


def test_oversize_uploads_get_413(agent_a: Client, ticket: Ticket, settings, tmp_path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.MAX_UPLOAD_BYTES = 1000
    big = SimpleUploadedFile("big.bin", b"x" * 2000)
    response = agent_a.post(url("reply", ticket), {"body": "too big", "attachments": [big]})
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert ticket.messages.count() == 1
    assert not Attachment.objects.exists()


def test_too_many_attachments(agent_a: Client, ticket: Ticket, settings, tmp_path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(11)]
    response = agent_a.post(
        url("note", ticket), {"body": "many", "attachments": files}, headers=HTMX
    )
    assert response.status_code == 422
    assert "at most 10 files" in response.content.decode()
    assert ticket.messages.count() == 1


def test_activity_names_the_assigned_agent(
    agent_a: Client, personas: Personas, ticket: Ticket
) -> None:
    agent_a.post(url("update", ticket), {"assignee": personas.agent_a.pk}, headers=HTMX)
    body = agent_a.get(url("detail", ticket)).content.decode()
    assert f"assigned to {personas.agent_a.display_name}" in body


def test_activity_says_who_wrote_the_customer_messages(agent_a: Client, personas: Personas) -> None:
    """It said "Ben received a customer message" for a ticket Ben opened on a customer's
    behalf, and "Li received a customer message" for Li's own portal message."""
    on_behalf = make_ticket(
        personas.mailbox_a, personas.customer, actor=services.Actor.agent(personas.agent_a)
    )
    body = agent_a.get(url("detail", on_behalf)).content.decode()
    assert "recorded the customer&#x27;s message" in body
    assert "received a customer message" not in body
    services.add_message(
        on_behalf,
        direction=Direction.INBOUND,
        body_text="Any news?",
        author=personas.customer.user,
        actor=services.Actor(ActorKind.CUSTOMER, personas.customer.user),
        from_address=personas.customer.email,
    )
    body = agent_a.get(url("detail", on_behalf)).content.decode()
    assert f"{personas.customer.user.display_name}</span> wrote" in body


def test_ticket_page_follows_a_membership_change_on_the_next_request(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    """The page's compiled statements take the agent's mailboxes from the held directory:
    joining or leaving a team shows or hides the ticket on the very next request."""
    client.force_login(personas.agent_b)
    older = make_ticket(personas.mailbox_a, personas.customer, subject="Toner low")
    assert client.get(url("detail", ticket)).status_code == 404
    personas.team_a.members.add(personas.agent_b)
    page = client.get(url("detail", ticket)).content.decode()
    assert "Printer on fire" in page and f"#{older.number}</span> Toner low" in page
    personas.team_a.members.remove(personas.agent_b)
    assert client.get(url("detail", ticket)).status_code == 404
    assert client.get(url("detail", older)).status_code == 404


def test_ticket_page_speaks_the_agents_language(agent_a: Client, ticket: Ticket) -> None:
    try:
        page = agent_a.get(url("detail", ticket), HTTP_ACCEPT_LANGUAGE="de").content.decode()
        for words in ("Eigenschaften", "Antwort senden", "Interne Notiz", "Aktivität"):
            assert words in page, words
        page = agent_a.get(url("detail", ticket), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "Propriétés" in page and "Properties" not in page
    finally:
        translation.activate(settings.LANGUAGE_CODE)  # the request left French active


def test_reply_query_count(
    agent_a: Client, personas: Personas, ticket: Ticket, django_capture_on_commit_callbacks
) -> None:
    """A reply as the load test posts it (htmx, "reply and set pending"), its after-commit
    work (rules, SLA, mail queued) included: a query more is a cost on every reply."""

    def post(body: str) -> list[str]:
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = agent_a.post(
                url("reply", ticket),
                {"body": body, "cc": "", "status_after": "pending"},
                headers={**HTMX, "Referer": f"http://testserver{url('detail', ticket)}"},
            )
        assert response.status_code == 200
        assert body in response.content.decode()
        return [q["sql"] for q in queries.captured_queries]

    # The first reply of a process fills its caches (session, user, menus).
    post("first")
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.OPEN)
    queries = post("second")
    assert (
        ticket.messages.filter(
            direction=Direction.OUTBOUND, delivery_status=DeliveryStatus.QUEUED
        ).count()
        == 2
    )
    # In the request's transaction: the ticket (view), savepoints, the row lock (read once:
    # the status change and the mail's headers reuse it and the mailbox and customer the
    # view read), the message, its event, the counters, the status (event, row), the
    # thread's Message-IDs, the headers. After commit: the rules' batch and what they read.
    # Then the ticket again and the page's reads for the response.
    assert len(queries) == 19, "\n".join(queries)
