"""Customers see only their own requests (and their sharing organization's): 404 otherwise."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from portal import services as portal_services
from tests.conftest import Personas
from tests.factories import make_article, make_customer, make_ticket
from tickets import services
from tickets.models import Attachment, Organization, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: Personas):  # type: ignore[no-untyped-def]
    """Li and Kim share Acme's tickets; Sam is at Globex, which does not share."""
    acme = Organization.objects.create(name="Acme", shares_tickets=True)
    globex = Organization.objects.create(name="Globex")
    li, sam = personas.customer, personas.other_customer
    li.organization, sam.organization = acme, globex
    li.save(update_fields=["organization"])
    sam.save(update_fields=["organization"])
    kim = make_customer("kim@acme.test", organization=acme, user=True)
    sam_colleague = make_customer("ola@globex.test", organization=globex, user=True)
    tickets = {}
    for name, customer in [("li", li), ("sam", sam), ("ola", sam_colleague)]:
        ticket = make_ticket(personas.mailbox_a, customer, subject=f"{name}'s secret")
        message = portal_services.reply_to_request(
            ticket,
            customer.user,
            customer,
            body=f"{name} attaches",
            files=[SimpleUploadedFile(f"{name}.txt", name.encode())],
        )
        note = services.add_note(ticket, personas.agent_a, f"note about {name}")
        Attachment.objects.create(message=note, filename="internal.txt", size=1)
        tickets[name] = (ticket, message.message.attachments.get())
    return {"li": li, "sam": sam, "kim": kim, "ola": sam_colleague, "tickets": tickets}


def _urls(ticket: Ticket, attachment: Attachment) -> list[tuple[str, str]]:
    return [
        ("get", reverse("portal:request", args=[ticket.pk])),
        ("get", reverse("portal:attachment", args=[ticket.pk, attachment.pk])),
        ("post", reverse("portal:reply", args=[ticket.pk])),
        ("post", reverse("portal:solve", args=[ticket.pk])),
    ]


def test_other_customers_get_404_on_every_url(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    li_ticket, li_file = world["tickets"]["li"]
    sam_ticket, sam_file = world["tickets"]["sam"]
    client.force_login(world["sam"].user)
    for method, url in _urls(li_ticket, li_file):
        assert getattr(client, method)(url, {"body": "x"}).status_code == 404, url
    client.force_login(world["li"].user)
    for method, url in _urls(sam_ticket, sam_file):
        assert getattr(client, method)(url, {"body": "x"}).status_code == 404, url
    # Globex does not share: Sam's colleague sees none of Sam's tickets either.
    client.force_login(world["ola"].user)
    assert client.get(reverse("portal:request", args=[sam_ticket.pk])).status_code == 404
    li_ticket.refresh_from_db()
    assert li_ticket.status != Status.SOLVED
    assert li_ticket.messages.filter(body_text="x").count() == 0


def test_shared_organization_members_see_each_other(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    li_ticket, li_file = world["tickets"]["li"]
    client.force_login(world["kim"].user)
    assert client.get(reverse("portal:request", args=[li_ticket.pk])).status_code == 200
    response = client.get(reverse("portal:attachment", args=[li_ticket.pk, li_file.pk]))
    assert response.status_code == 200
    listing = client.get(reverse("portal:requests")).content.decode()
    assert "li&#x27;s secret" in listing
    assert "sam&#x27;s secret" not in listing


def test_guessing_numbers_finds_nothing(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    li_ticket, _ = world["tickets"]["li"]
    client.force_login(world["li"].user)
    # Every number from a few below the first ticket there is to a few past the last:
    # below it nothing exists (earlier tests' rows are gone), and walking down to 1 made
    # this test's time grow with every ticket earlier tests in the process had made.
    tickets = Ticket.objects.order_by("pk").values_list("pk", flat=True)
    seen = {
        number
        for number in range(max(1, tickets.first() - 5), tickets.last() + 5)
        if client.get(reverse("portal:request", args=[number])).status_code == 200
    }
    assert seen == {li_ticket.pk}
    files = Attachment.objects.order_by("pk").values_list("pk", flat=True)
    reachable = {
        pk
        for pk in range(max(1, files.first() - 3), files.last() + 3)
        if client.get(reverse("portal:attachment", args=[li_ticket.pk, pk])).status_code == 200
    }
    # Li's own upload only: not other tickets' files, not the file on an internal note.
    assert reachable == {world["tickets"]["li"][1].pk}
    for path in ["/portal/requests/abc/", "/portal/requests/99999999999999999999/"]:
        assert client.get(path).status_code == 404


def test_internal_notes_and_their_files_never_reach_customers(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    li_ticket, _ = world["tickets"]["li"]
    client.force_login(world["li"].user)
    body = client.get(reverse("portal:request", args=[li_ticket.pk])).content.decode()
    assert "note about li" not in body
    assert "internal.txt" not in body


def test_portal_pages_send_a_csp_without_inline_script(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    article = make_article("Reset your password")
    li_ticket, _ = world["tickets"]["li"]
    pages = [reverse("kb:home"), article.get_absolute_url(), reverse("portal:sign_in")]
    client.force_login(world["li"].user)
    pages += [
        reverse("portal:requests"),
        reverse("portal:new_request"),
        reverse("portal:request", args=[li_ticket.pk]),
        reverse("portal:account"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert "'unsafe-inline'" not in script_src
        assert "'unsafe-eval'" not in script_src
        html = response.content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            # A JSON-LD data block (kb/seo.py) is never run, so CSP does not govern it.
            if tag == '<script type="application/ld+json">':
                continue
            assert "src=" in tag, f"inline script on {url}: {tag}"
        assert re.search(r"\son[a-z]+=", html) is None, f"inline handler on {url}"


def test_survey_links_cannot_be_guessed_or_forged(client: Client, world) -> None:  # type: ignore[no-untyped-def]
    """Survey pages are reached by signed links from the mail, not by numbers."""
    from django.core import signing

    from metrics.models import SurveyResponse
    from metrics.surveys import make_token

    li_ticket, _ = world["tickets"]["li"]
    sam_ticket, _ = world["tickets"]["sam"]
    client.force_login(world["sam"].user)
    forged = signing.dumps(
        {"k": "csat", "c": world["li"].pk, "t": li_ticket.pk}, salt="guessed", compress=True
    )
    own = make_token("csat", world["sam"].pk, ticket_id=sam_ticket.pk)
    tampered = own.replace(own.split(":")[0], forged.split(":")[0], 1)
    for token in [str(li_ticket.pk), forged, tampered]:
        response = client.post(f"/survey/{token}/", {"csat": "1"})
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert not SurveyResponse.objects.filter(ticket=li_ticket).exists()
