"""Merging two customers' tickets asks first (issue #14, finding 7): merged, the target's
customer reads the other's messages and files. The ticket page shows a warning naming
both customers; the API answers 400 unless `confirm_different_customers` is true."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.api_client import assert_error_shape, client_for
from tests.tickets.test_rules_every_door import _client
from tickets import services
from tickets.models import Attachment, Status, Ticket
from tickets.services import Actor
from tickets.workflow import collab

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers(personas: Personas) -> tuple[Ticket, Ticket]:
    """Li's ticket with a file, and Sam's, both in mailbox A."""
    p = personas
    li = make_ticket(p.mailbox_a, p.customer, subject="My passport scan")
    services.customer_reply(
        li,
        actor=services.MAIL,
        sender=p.customer.email,
        body_text="Here it is",
        attachments=[SimpleUploadedFile("passport.pdf", b"%PDF-1.4", "application/pdf")],
    )
    sam = make_ticket(p.mailbox_a, p.other_customer, subject="Cannot log in")
    return li, sam


def _unmerged(li: Ticket, sam: Ticket) -> None:
    li.refresh_from_db()
    assert li.merged_into_id is None and li.status != Status.CLOSED
    assert not Attachment.objects.filter(message__ticket=sam).exists()


def test_the_ticket_page_warns_naming_both_customers_before_merging(
    personas: Personas, two_customers: tuple[Ticket, Ticket]
) -> None:
    li, sam = two_customers
    agent = _client(personas.agent_a)
    url = reverse("tickets:merge", args=[li.pk])

    warned = agent.post(url, {"into": sam.pk})
    assert warned.status_code == 409
    page = warned.content.decode()
    assert "Merge two customers" in page
    assert "li@customer.test" in page and "sam@other.test" in page
    assert "Sam Patel &lt;sam@other.test&gt; would see Li Wei &lt;li@customer.test&gt;" in page
    assert 'name="confirm_different_customers"' in page and "Merge anyway" in page
    _unmerged(li, sam)

    confirmed = agent.post(url, {"into": sam.pk, "confirm_different_customers": "on"})
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse(
        "tickets:detail", args=[sam.pk]
    )
    li.refresh_from_db()
    assert li.merged_into_id == sam.pk
    assert Attachment.objects.filter(message__ticket=sam, filename="passport.pdf").exists()


def test_the_api_answers_400_unless_the_merge_of_two_customers_is_confirmed(
    personas: Personas, two_customers: tuple[Ticket, Ticket]
) -> None:
    li, sam = two_customers
    api = client_for(personas.agent_a)
    url = f"/api/v1/tickets/{li.pk}/merge/"

    refused = api.post(url, {"into": sam.pk}, format="json")
    errors = assert_error_shape(refused, 400)["errors"]
    [message] = errors["confirm_different_customers"]
    assert "li@customer.test" in message and "sam@other.test" in message
    _unmerged(li, sam)

    merged = api.post(url, {"into": sam.pk, "confirm_different_customers": True}, format="json")
    assert merged.status_code == 200 and merged.json()["number"] == sam.pk
    li.refresh_from_db()
    assert li.merged_into_id == sam.pk and li.status == Status.CLOSED

    # Bad input and other callers: clear errors, never a 500.
    other = make_ticket(personas.mailbox_a, personas.customer)
    assert (
        "into"
        in assert_error_shape(api.post(url.replace(str(li.pk), str(other.pk)), {}), 400)["errors"]
    )
    hidden = make_ticket(personas.mailbox_b, personas.customer)
    assert (
        "into"
        in assert_error_shape(
            api.post(f"/api/v1/tickets/{other.pk}/merge/", {"into": hidden.pk}, format="json"), 400
        )["errors"]
    )
    assert_error_shape(
        client_for(personas.customer.user).post(
            f"/api/v1/tickets/{other.pk}/merge/", {"into": li.pk}, format="json"
        ),
        403,
    )


def test_the_same_customers_tickets_merge_without_asking(personas: Personas) -> None:
    p = personas
    first = make_ticket(p.mailbox_a, p.customer)
    second = make_ticket(p.mailbox_a, p.customer)
    merged = client_for(p.agent_a).post(
        f"/api/v1/tickets/{first.pk}/merge/", {"into": second.pk}, format="json"
    )
    assert merged.status_code == 200
    with pytest.raises(collab.DifferentCustomers):
        collab.merge_tickets(
            make_ticket(p.mailbox_a, p.customer),
            make_ticket(p.mailbox_a, p.other_customer),
            actor=Actor.agent(p.agent_a),
        )
