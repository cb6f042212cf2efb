"""Customers' addresses and organizations' domains through every door that creates or
finds a customer (issue #17, item 1): mail (one message and a batch), the API, history
import (line by line and in bulk), and the agent's "change requester" on the ticket page.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from importer.fields import Lookups
from importer.lines import import_lines, import_record
from tests.conftest import Personas
from tests.factories import make_ticket
from tests.tickets.api_client import client_for
from tickets import services
from tickets.mail.intake import ingest_many, ingest_message
from tickets.models import (
    Customer,
    CustomerEmail,
    EventKind,
    Organization,
    OrganizationDomain,
    Ticket,
)
from tickets.services import Actor

pytestmark = pytest.mark.django_db
A_MAILBOX = "a@tandem.test"


def _mail(sender: str, subject: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    message["To"] = "a@tandem.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}@mail.test>"
    message.set_content("Hello, something is wrong.")
    return message.as_bytes()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme() -> Organization:
    org = Organization.objects.create(name="Acme")
    OrganizationDomain.objects.create(organization=org, domain="acme.test")
    return org


def test_mail_from_another_address_of_a_customer_is_theirs(personas: Personas) -> None:
    CustomerEmail.objects.create(customer=personas.customer, email="li.wei@home.test")
    result = ingest_message(_mail("Li.Wei@Home.test", "From home", "one"))
    batch = ingest_many(
        [_mail("li.wei@home.test", "Again", "two"), _mail("new@else.test", "New", "three")]
    )

    tickets = Ticket.objects.filter(pk__in=[result.ticket_id, batch[0].ticket_id])
    assert {t.customer_id for t in tickets} == {personas.customer.pk}
    assert not Customer.objects.filter(email="li.wei@home.test").exists()
    assert Ticket.objects.get(pk=batch[1].ticket_id).customer.email == "new@else.test"


def test_a_new_customer_joins_the_organization_of_their_domain_at_every_door(
    personas: Personas, acme: Organization
) -> None:
    # Mail, one message and a batch.
    ingest_message(_mail("mail@acme.test", "By mail", "m1"))
    ingest_many([_mail("batch@acme.test", "In a batch", "m2")])
    # The API.
    response = client_for(personas.agent_a).post(
        "/api/v1/tickets/",
        {
            "subject": "By API",
            "body": "Hi",
            "customer": "api@acme.test",
            "mailbox": "a@tandem.test",
        },
        format="json",
    )
    assert response.status_code == 201, response.content

    # History import, line by line and in bulk.
    def line(n: int, email: str) -> str:
        return json.dumps(
            {
                "type": "ticket",
                "external_id": f"IMP-{n}",
                "mailbox": "a@tandem.test",
                "subject": "Imported",
                "customer": {"email": email},
                "created_at": "2026-03-02T09:15:00Z",
            }
        )

    assert import_record(line(1, "line@acme.test"), Lookups()) == "imported"
    result = import_lines([line(2, "bulk1@acme.test"), line(3, "bulk2@acme.test")])
    assert result.imported == 2, result.errors
    # An agent's ticket on behalf of someone new.
    services.get_or_create_customer("agent@acme.test", "Ann")

    joined = Customer.objects.filter(email__endswith="@acme.test")
    assert sorted(joined.values_list("email", flat=True)) == [
        "agent@acme.test",
        "api@acme.test",
        "batch@acme.test",
        "bulk1@acme.test",
        "bulk2@acme.test",
        "line@acme.test",
        "mail@acme.test",
    ]
    assert set(joined.values_list("organization_id", flat=True)) == {acme.pk}
    # Other domains, and customers who existed before, are left alone.
    assert Customer.objects.get(pk=personas.customer.pk).organization_id is None
    ingest_message(_mail("x@notacme.test", "Other", "m3"))
    assert Customer.objects.get(email="x@notacme.test").organization_id is None


def test_change_requester_on_the_ticket_page_writes_an_event(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    agent = _client(personas.agent_a)
    url = f"/tickets/{ticket.pk}/requester/"

    response = agent.post(url, {"email": "Sam@Other.test"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.customer == personas.other_customer
    event = ticket.events.get(kind=EventKind.CUSTOMER)
    assert (event.before, event.after, event.actor) == (
        "li@customer.test",
        "sam@other.test",
        personas.agent_a,
    )
    page = agent.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'href="/customers/{personas.other_customer.pk}/"' in page

    # A new address makes a new customer; a bad one changes nothing; another team's
    # ticket is a 404; a GET is a 405.
    agent.post(url, {"email": "fresh@new.test"})
    ticket.refresh_from_db()
    assert ticket.customer.email == "fresh@new.test"
    agent.post(url, {"email": "not an address"})
    ticket.refresh_from_db()
    assert ticket.customer.email == "fresh@new.test"
    assert _client(personas.agent_b).post(url, {"email": "li@customer.test"}).status_code == 404
    assert agent.get(url).status_code == 405


def test_merge_moves_tickets_messages_surveys_and_addresses(personas: Personas) -> None:
    from audit.models import AuditEntry, AuditKind
    from metrics.models import SurveyResponse

    li, sam = personas.customer, personas.other_customer
    CustomerEmail.objects.create(customer=sam, email="sam@home.test")
    sam.phone = "+44 20 7946 0000"
    sam.save(update_fields=["phone"])
    sams = make_ticket(personas.mailbox_a, sam, subject="Sam's problem")
    SurveyResponse.objects.create(kind="csat", score=5, customer=sam, ticket=sams)
    manager = _client(personas.manager)

    response = manager.post(f"/customers/{li.pk}/merge/", {"email": "sam@other.test"})
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=sam.pk).exists()
    sams.refresh_from_db()
    li.refresh_from_db()
    assert sams.customer == li and sams.messages.count() == 1
    assert SurveyResponse.objects.get().customer == li
    assert set(li.emails.values_list("email", flat=True)) == {"sam@other.test", "sam@home.test"}
    assert li.phone == "+44 20 7946 0000" and li.name == "Li Wei"
    event = sams.events.get(kind=EventKind.CUSTOMER)
    assert (event.before, event.after) == ("sam@other.test", "li@customer.test")
    entry = AuditEntry.objects.get(kind=AuditKind.CUSTOMER_MERGE)
    assert entry.data["merged_customer"] == sam.pk and entry.actor == personas.manager
    # Mail from Sam's old address now reaches Li.
    result = ingest_message(_mail("sam@other.test", "Still me", "after-merge"))
    assert Ticket.objects.get(pk=result.ticket_id).customer == li

    # Merging a customer with themselves, or an unknown address: refused, nothing changes;
    # an agent (not a manager) may not merge.
    page = manager.post(f"/customers/{li.pk}/merge/", {"email": "li@customer.test"}, follow=True)
    assert "Choose another customer" in page.content.decode()
    page = manager.post(f"/customers/{li.pk}/merge/", {"email": "nobody@x.test"}, follow=True)
    assert "No customer has the address nobody@x.test" in page.content.decode()
    other = services.get_or_create_customer("z@z.test")
    denied = _client(personas.agent_a).post(f"/customers/{li.pk}/merge/", {"email": "z@z.test"})
    assert denied.status_code == 403
    assert Customer.objects.filter(pk=other.pk).exists()


def test_merge_service_refuses_the_same_customer(personas: Personas) -> None:
    with pytest.raises(services.InvalidChange):
        services.merge_customers(personas.customer, personas.customer, actor=Actor())


def test_erasure_removes_and_export_lists_the_other_addresses(personas: Personas) -> None:
    import io
    import zipfile

    from django.core.management import call_command

    li = personas.customer
    CustomerEmail.objects.create(customer=li, email="li.wei@home.test")
    out = io.BytesIO()
    from privacy.export import export_customer

    export_customer(li, out)
    profile = json.loads(zipfile.ZipFile(out).read("customer.json"))
    assert profile["other_emails"] == ["li.wei@home.test"]

    call_command("erase_customer", li.email, "--yes", stdout=io.StringIO())
    assert not CustomerEmail.objects.exists()
    # Their old address now names no one: mail from it makes a new customer.
    result = ingest_message(_mail("li.wei@home.test", "Hello again", "after-erase"))
    assert Ticket.objects.get(pk=result.ticket_id).customer.email == "li.wei@home.test"
