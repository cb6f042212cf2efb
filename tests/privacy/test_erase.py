"""Erasing a customer (specs/api.md, "Privacy"): the person is gone from the database and
the media store; their tickets, events and figures stay, and every metric answers the
same. Through the API, the ticket page's button and the command; admins only."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from metrics.services import recompute_all
from tests.conftest import Personas
from tests.factories import hours
from tests.privacy.conftest import ADDRESS, ATTACHMENT, NAME, Story, files_holding, traces
from tests.tickets.api_client import client_for
from tickets.models import Attachment, Customer, Message, Ticket, TicketEvent, User
from webhooks import payloads
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/metrics/summary/?" + urlencode(
    {"start": hours(-1).isoformat(), "end": hours(100).isoformat(), "kind": "all"}
)


def erase_url(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.pk}/erase/"


def test_erase_leaves_no_trace_and_every_metric_the_same(
    personas: Personas, story: Story, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    li = personas.customer
    manager = client_for(personas.manager)
    recompute_all()
    before = manager.get(SUMMARY).json()
    assert before["tickets_created"] >= 2 and before["csat"]["responses"] == 1
    assert before["nps"]["responses"] == 1
    counts = (Ticket.objects.count(), TicketEvent.objects.count(), Message.objects.count())
    # Everything the story stored is there to find first.
    assert traces(ADDRESS, NAME) and files_holding(media, ADDRESS.encode())

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.admin).post(erase_url(li))

    assert response.status_code == 200, response.content
    assert response.json()["id"] == li.pk and response.json()["attachments"] == 1
    assert traces(ADDRESS, NAME, "+44 20 7946") == []
    assert files_holding(media, ADDRESS.encode()) == []
    assert files_holding(media, ATTACHMENT[:20]) == []
    li.refresh_from_db()
    assert li.name == "" and li.email.endswith("@erased.invalid")
    user = User.objects.get(pk=li.user_id)
    assert not user.is_active and not user.has_usable_password()
    # Tickets, events and messages stay, anonymous; every figure answers the same.
    assert (Ticket.objects.count(), TicketEvent.objects.count(), Message.objects.count()) == counts
    assert set(Ticket.objects.filter(customer=li).values_list("subject", flat=True)) == {"[erased]"}
    assert not Attachment.objects.filter(message__ticket=story.mailed).exists()
    inbound = story.copied.messages.filter(direction="inbound").order_by("created_at")
    assert list(inbound.values_list("body_text", flat=True)) == ["It is broken", "[erased]"]
    assert manager.get(SUMMARY).json() == before
    recompute_all()
    assert manager.get(SUMMARY).json() == before
    # Written to the audit log, naming the customer by id only.
    entry = AuditEntry.objects.get(kind=AuditKind.ERASURE)
    assert entry.actor == personas.admin and entry.target_label == f"customer #{li.pk}"


def test_the_database_dump_holds_no_trace(
    personas: Personas, story: Story, transactional_db: None
) -> None:
    """The erasure committed, pg_dump of the whole database, grepped."""
    client_for(personas.admin).post(erase_url(personas.customer))
    settings = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            settings["HOST"],
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"],
            "--data-only",
            settings["NAME"],
        ],
        capture_output=True,
        check=True,
        env={**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""},
    ).stdout.decode()
    assert "customer_id" in dump or "COPY public.tickets_customer" in dump
    assert ADDRESS not in dump.lower() and NAME.lower() not in dump.lower()


def test_other_people_keep_their_data(personas: Personas, story: Story) -> None:
    sam = personas.other_customer
    client_for(personas.admin).post(erase_url(personas.customer))
    sam.refresh_from_db()
    assert (sam.email, sam.name) == ("sam@other.test", "Sam Patel")
    copied = Ticket.objects.get(pk=story.copied.pk)
    assert copied.subject != "[erased]" and copied.cc == []
    # Sam's message stays; the agent's reply named Li, not any more.
    assert copied.messages.filter(body_text="It is broken", direction="inbound").exists()
    agent_reply = copied.messages.get(direction="outbound")
    assert agent_reply.body_text == "Copying [erased] ([erased]) as asked."


def _sent(endpoint: WebhookEndpoint, event: str, **about: Any) -> WebhookDelivery:
    """A delivery as its first attempt leaves it: the JSON built from the rows, kept."""
    delivery = WebhookDelivery(endpoint=endpoint, event=event, status="delivered", **about)
    delivery.body = payloads.body_of(delivery)
    delivery.save()
    return delivery


def test_the_json_webhooks_kept_is_erased_too(personas: Personas, story: Story) -> None:
    li = personas.customer
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.test/in", secret="s")
    on_li = story.copied.messages.get(from_address=ADDRESS)
    kept = [
        _sent(endpoint, WebhookEvent.TICKET_CREATED, ticket_id=story.mailed.pk),
        _sent(
            endpoint, WebhookEvent.MESSAGE_CREATED, ticket_id=story.copied.pk, object_id=on_li.pk
        ),
        _sent(endpoint, WebhookEvent.CUSTOMER_CREATED, object_id=li.pk),
        _sent(
            endpoint,
            WebhookEvent.TICKET_UPDATED,
            ticket_id=story.copied.pk,
            changes={"cc": [[], [ADDRESS]]},
        ),
    ]
    sams = _sent(endpoint, WebhookEvent.CUSTOMER_CREATED, object_id=personas.other_customer.pk)
    assert all(ADDRESS in delivery.body for delivery in kept)
    assert traces(ADDRESS)

    assert client_for(personas.admin).post(erase_url(li)).status_code == 200

    assert traces(ADDRESS, NAME) == []
    assert {d.body for d in WebhookDelivery.objects.filter(pk__in=[d.pk for d in kept])} == {""}
    assert WebhookDelivery.objects.get(pk=kept[-1].pk).changes == {"cc": [[], ["[erased]"]]}
    # Another customer's delivery keeps its JSON.
    assert WebhookDelivery.objects.get(pk=sams.pk).body == sams.body != ""


@pytest.mark.parametrize("who", ["agent_a", "manager", "customer"])
def test_only_admins_erase(personas: Personas, story: Story, who: str) -> None:
    user = getattr(personas, who)
    response = client_for(user.user if who == "customer" else user).post(
        erase_url(personas.customer)
    )
    assert response.status_code == 403 and "detail" in response.json()
    assert Customer.objects.get(pk=personas.customer.pk).email == ADDRESS
    assert not AuditEntry.objects.filter(kind=AuditKind.ERASURE).exists()


def test_erase_answers_401_404_405(personas: Personas) -> None:
    assert client_for(None).post(erase_url(personas.customer)).status_code == 401
    admin = client_for(personas.admin)
    assert admin.post("/api/v1/customers/999999/erase/").status_code == 404
    assert admin.get(erase_url(personas.customer)).status_code == 405


def test_the_ticket_page_button_erases_after_a_confirmation(
    personas: Personas, story: Story
) -> None:
    admin = Client()
    admin.force_login(personas.admin)
    page = admin.get(reverse("tickets:detail", args=[story.mailed.pk])).content.decode()
    url = reverse("privacy:erase", args=[personas.customer.pk])
    assert url in page and reverse("privacy:export", args=[personas.customer.pk]) in page
    confirm = admin.get(url)
    assert confirm.status_code == 200 and "Erase this customer" in confirm.content.decode()
    assert Customer.objects.get(pk=personas.customer.pk).email == ADDRESS
    assert admin.post(url).status_code == 302
    assert Customer.objects.get(pk=personas.customer.pk).email.endswith("@erased.invalid")
    assert AuditEntry.objects.get(kind=AuditKind.ERASURE).actor == personas.admin


def test_agents_see_no_button_and_get_403(personas: Personas, story: Story) -> None:
    agent = Client()
    agent.force_login(personas.agent_a)
    page = agent.get(reverse("tickets:detail", args=[story.mailed.pk])).content.decode()
    url = reverse("privacy:erase", args=[personas.customer.pk])
    assert url not in page
    assert agent.get(url).status_code == 403 and agent.post(url).status_code == 403
    assert Customer.objects.get(pk=personas.customer.pk).email == ADDRESS


def test_the_command_erases_with_yes_only(personas: Personas, story: Story) -> None:
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_customer", ADDRESS)
    assert Customer.objects.get(pk=personas.customer.pk).email == ADDRESS
    with pytest.raises(CommandError, match="No customer"):
        call_command("erase_customer", "nobody@example.test", "--yes")
    out = io.StringIO()
    call_command("erase_customer", ADDRESS.upper(), "--yes", stdout=out)
    assert f"Erased customer #{personas.customer.pk}" in out.getvalue()
    assert traces(ADDRESS) == []
    entry = AuditEntry.objects.get(kind=AuditKind.ERASURE)
    assert entry.actor is None and entry.actor_label == "manage.py erase_customer"
