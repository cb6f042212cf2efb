import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kb.models import RequestFormVisit, SearchQueryLog
from portal.selectors import my_requests, visible_customer_ids
from tests.conftest import Personas
from tests.factories import make_article, make_customer, make_ticket
from tickets import services
from tickets.links import portal_ticket_url
from tickets.models import (
    ActorKind,
    Attachment,
    Channel,
    Direction,
    EventKind,
    Organization,
    Status,
    Ticket,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def li(client: Client, personas: Personas) -> Client:
    client.force_login(personas.customer.user)
    return client


def test_filing_a_request_with_attachments(li: Client, personas: Personas) -> None:
    li.get(reverse("portal:new_request"))
    visit = RequestFormVisit.objects.get()
    response = li.post(
        reverse("portal:new_request"),
        {
            "subject": "  Printer   on fire ",
            "description": "Smoke everywhere.\n<script>alert(1)</script>",
            "visit": str(visit.pk),
            "attachments": [
                SimpleUploadedFile("../../etc/photo.png", b"\x89PNG fake", "image/png"),
                SimpleUploadedFile("notes.txt", b"hello", "text/plain"),
            ],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request", args=[ticket.pk])
    assert ticket.subject == "Printer on fire"
    assert ticket.channel == Channel.PORTAL
    assert ticket.customer == personas.customer
    assert ticket.mailbox == personas.mailbox_a  # the default mailbox
    message = ticket.messages.get()
    assert message.direction == Direction.INBOUND
    assert message.body_text == "Smoke everywhere.\n<script>alert(1)</script>"
    assert sorted(a.filename for a in message.attachments.all()) == ["notes.txt", "photo.png"]
    created = ticket.events.get(kind=EventKind.CREATED)
    assert (created.actor_kind, created.actor) == (ActorKind.CUSTOMER, personas.customer.user)
    visit.refresh_from_db()
    assert visit.ticket == ticket
    assert not visit.deflected
    assert SearchQueryLog.objects.get().result_count == 0  # no article answers it
    page = li.get(response["Location"]).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_request_form_errors_are_explained(li: Client, personas: Personas, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 10
    response = li.post(
        reverse("portal:new_request"),
        {
            "subject": "x",
            "description": "   ",
            "attachments": [SimpleUploadedFile("big.bin", b"x" * 11)],
        },
    )
    assert response.status_code == 413  # the form is shown again, every error explained
    body = response.content.decode()
    assert "at least 3 characters" in body
    assert "Please describe your question." in body or "This field is required." in body
    assert "Attachments may add up to 10" in body
    assert not Ticket.objects.exists()


def test_suggestions_while_typing_and_deflection(li: Client, personas: Personas) -> None:
    article = make_article("Reset your password", "Open settings and press reset.")
    li.get(reverse("portal:new_request"))
    visit = RequestFormVisit.objects.get()
    response = li.get(
        reverse("portal:suggestions"),
        {"subject": "forgot password", "description": "", "visit": str(visit.pk)},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Reset your <mark>password</mark>" in body
    open_url = reverse("portal:open_suggestion", args=[visit.pk, article.pk])
    assert open_url in body
    response = li.get(open_url)
    assert response["Location"] == article.get_absolute_url()
    visit.refresh_from_db()
    assert visit.suggestions_shown == 1
    assert visit.suggestions_opened == 1
    assert visit.last_opened_article == article
    assert visit.deflected  # opened a suggestion, filed nothing
    # Coming back to the form continues the same visit rather than counting a new one.
    li.get(reverse("portal:new_request"))
    assert RequestFormVisit.objects.count() == 1


@pytest.mark.parametrize("visit", [None, "", "not-a-uuid", "a/b"])
def test_suggestions_without_a_good_visit_id_still_link_the_articles(
    li: Client, personas: Personas, visit: str | None
) -> None:
    article = make_article("Reset your password", "Open settings and press reset.")
    query = {"subject": "forgot password"} | ({"visit": visit} if visit is not None else {})
    response = li.get(reverse("portal:suggestions"), query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'href="{article.get_absolute_url()}"' in response.content.decode()
    # Once the form page started a visit, its suggestions count there again.
    li.get(reverse("portal:new_request"))
    started = RequestFormVisit.objects.get()
    response = li.get(reverse("portal:suggestions"), query, headers={"HX-Request": "true"})
    assert (
        reverse("portal:open_suggestion", args=[started.pk, article.pk])
        in response.content.decode()
    )
    started.refresh_from_db()
    assert started.suggestions_shown == 1


def test_another_customers_visit_is_not_touched(li: Client, personas: Personas) -> None:
    article = make_article("Reset your password")
    theirs = RequestFormVisit.objects.create(customer=personas.other_customer)
    li.get(reverse("portal:open_suggestion", args=[theirs.pk, article.pk]))
    li.get(reverse("portal:open_suggestion", args=["not-a-uuid", article.pk]))
    theirs.refresh_from_db()
    assert theirs.suggestions_opened == 0


def test_my_requests_lists_own_and_shared_organization_tickets(personas: Personas) -> None:
    shared = Organization.objects.create(name="Acme", shares_tickets=True)
    private = Organization.objects.create(name="Globex")
    personas.customer.organization = shared
    personas.customer.save(update_fields=["organization"])
    colleague = make_customer("kim@acme.test", organization=shared)
    outsider = make_customer("joe@globex.test", organization=private)
    mine = make_ticket(personas.mailbox_a, personas.customer)
    theirs = make_ticket(personas.mailbox_b, colleague)
    make_ticket(personas.mailbox_a, outsider)
    make_ticket(personas.mailbox_a, personas.other_customer)
    user = personas.customer.user
    page = my_requests(personas.customer)
    assert [t.pk for t in page.tickets] == [theirs.pk, mine.pk]
    # Same rule as the foundation's permission queryset.
    assert {t.pk for t in Ticket.objects.visible_to(user)} == {mine.pk, theirs.pk}
    assert set(visible_customer_ids(personas.customer)) == {personas.customer.pk, colleague.pk}
    assert visible_customer_ids(outsider) == [outsider.pk]


def test_my_requests_pages_and_filters_with_constant_queries(
    li: Client, personas: Personas, django_assert_num_queries
) -> None:
    for n in range(3):
        make_ticket(personas.mailbox_a, personas.customer, subject=f"Question {n}")
    # The customer with organization (decorator), the page with customers; the session
    # and the user come from the cache after the first request.
    li.get(reverse("portal:requests"))
    with django_assert_num_queries(2):
        li.get(reverse("portal:requests"))
    tickets = [make_ticket(personas.mailbox_a, personas.customer) for _ in range(27)]
    services.update_ticket(tickets[0], status=Status.SOLVED)
    with django_assert_num_queries(2):
        response = li.get(reverse("portal:requests"))
    body = response.content.decode()
    assert "Older requests" in body
    cursor = my_requests(personas.customer).next_cursor
    second = li.get(reverse("portal:requests"), {"cursor": cursor}).content.decode()
    assert "Question 0" in second
    solved = li.get(reverse("portal:requests"), {"state": "solved"}).content.decode()
    assert solved.count('class="request-item"') == 1
    assert li.get(reverse("portal:requests"), {"cursor": "garbage~x"}).status_code == 200


def test_ticket_page_shows_public_conversation_never_notes(li: Client, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer, body_text="Help please")
    services.add_note(ticket, personas.agent_a, "Customer is grumpy, careful")
    services.reply(ticket, personas.agent_a, "We are on it!")
    body = li.get(reverse("portal:request", args=[ticket.pk])).content.decode()
    assert "Help please" in body
    assert "We are on it!" in body
    assert "grumpy" not in body


def test_reply_with_attachment_lands_in_the_same_conversation(
    li: Client, personas: Personas
) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    services.reply(ticket, personas.agent_a, "Please send a screenshot.")
    services.update_ticket(ticket, status=Status.PENDING)
    response = li.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "Here it is.", "attachments": [SimpleUploadedFile("s.png", b"png")]},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # a customer reply wakes a pending ticket
    last = ticket.messages.order_by("-created_at", "-id").first()
    assert (last.direction, last.body_text, last.author) == (
        Direction.INBOUND,
        "Here it is.",
        personas.customer.user,
    )
    assert last.from_address == personas.customer.email
    assert last.attachments.get().filename == "s.png"
    assert li.post(reverse("portal:reply", args=[ticket.pk]), {"body": "  "}).status_code == 400
    assert li.get(reverse("portal:reply", args=[ticket.pk])).status_code == 405


def test_reply_with_files_too_large_is_a_413_that_explains(
    li: Client, personas: Personas, settings
) -> None:
    settings.MAX_UPLOAD_BYTES = 10
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = li.post(
        reverse("portal:reply", args=[ticket.pk]),
        {"body": "Here it is.", "attachments": [SimpleUploadedFile("big.png", b"x" * 11)]},
    )
    assert response.status_code == 413
    assert "Attachments may add up to 10" in response.content.decode()
    assert ticket.messages.count() == 1


def test_customer_marks_a_request_solved(li: Client, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    response = li.post(reverse("portal:solve", args=[ticket.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    event = ticket.events.get(kind=EventKind.STATUS)
    assert (event.actor_kind, event.after) == (ActorKind.CUSTOMER, "solved")
    li.post(reverse("portal:solve", args=[ticket.pk]))
    assert ticket.events.filter(kind=EventKind.STATUS).count() == 1


def test_attachment_download_is_forced_and_not_sniffed(li: Client, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    li.post(
        reverse("portal:reply", args=[ticket.pk]),
        {
            "body": "see file",
            "attachments": [SimpleUploadedFile("evil.html", b"<script>x</script>", "text/html")],
        },
    )
    attachment = Attachment.objects.get()
    response = li.get(reverse("portal:attachment", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="evil.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>x</script>"


def test_agents_are_sent_to_their_workspace(client: Client, personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    client.force_login(personas.agent_a)
    response = client.get(reverse("portal:request", args=[ticket.pk]))
    assert response["Location"] == reverse("tickets:inbox")
    assert client.post(reverse("portal:reply", args=[ticket.pk]), {"body": "x"}).status_code == 404


def test_portal_ticket_url_for_reply_emails(personas: Personas, settings) -> None:
    settings.SITE_URL = "https://help.example.test"
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    assert portal_ticket_url(ticket) == f"https://help.example.test/portal/requests/{ticket.pk}/"


def test_a_merged_request_leads_to_the_one_it_continues_in(li: Client, personas: Personas) -> None:
    from tickets.services import Actor
    from tickets.workflow.collab import merge_tickets

    box, li_customer = personas.mailbox_a, personas.customer
    old = make_ticket(box, li_customer, subject="Printer jammed")
    kept = make_ticket(box, li_customer, subject="Printer still jammed")
    stranger = make_ticket(box, make_customer("eve@other.test"), subject="Eve's")
    merge_tickets(old, kept, actor=Actor.agent(personas.agent_a))
    response = li.get(reverse("portal:request", args=[old.pk]), follow=True)
    assert response.redirect_chain == [(reverse("portal:request", args=[kept.pk]), 302)]
    assert f"continues here, in #{kept.pk}" in response.content.decode()

    # Merged into someone else's request: no redirect there (that would be a 404), a word.
    other = make_ticket(box, li_customer, subject="Mine, later merged away")
    merge_tickets(
        other, stranger, actor=Actor.agent(personas.agent_a), confirm_different_customers=True
    )
    response = li.get(reverse("portal:request", args=[other.pk]))
    assert response.status_code == 200
    assert "merged with another" in response.content.decode()
    assert "Eve&#x27;s" not in response.content.decode()


def test_submit_a_request_is_offered_once_per_page(li: Client, personas: Personas) -> None:
    """The header's button gave way on pages with their own (My requests showed it twice,
    one above the other on a phone); the other pages keep the header's."""
    make_ticket(personas.mailbox_a, personas.customer)
    for path in ("/portal/requests/", "/portal/requests/?state=solved", "/help/"):
        page = li.get(path).content.decode()
        assert page.count(">Submit a request</a>") == 1, path
    form = li.get("/portal/requests/new/").content.decode()
    assert ">Submit a request</a>" not in form  # the page is the form itself
