"""Exporting a customer (specs/api.md, "Privacy"): a zip of customer.json, tickets.json
and attachments/, through the API, the ticket page's link and the command; admins only;
each export written to the audit log."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry, AuditKind
from tests.conftest import Personas
from tests.privacy.conftest import ADDRESS, ATTACHMENT, NAME, Story
from tests.tickets.api_client import client_for

pytestmark = pytest.mark.django_db


def export_url(pk: int) -> str:
    return f"/api/v1/customers/{pk}/export/"


def read_zip(content: bytes) -> tuple[dict, list, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    files = {name: archive.read(name) for name in archive.namelist()}
    customer = json.loads(files.pop("customer.json"))
    tickets = json.loads(files.pop("tickets.json"))
    return customer, tickets, files


def test_export_holds_everything_about_the_customer(personas: Personas, story: Story) -> None:
    li = personas.customer
    response = client_for(personas.admin).get(export_url(li.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="customer-{li.pk}.zip"' in response["Content-Disposition"]
    customer, tickets, files = read_zip(b"".join(response.streaming_content))
    assert (customer["email"], customer["name"]) == (ADDRESS, NAME)
    assert customer["user"]["username"] == li.user.username
    assert [a["score"] for a in customer["survey_answers"]] == [9]  # NPS: of no ticket
    assert customer["article_feedback"][0]["comment"] == f"Write to {ADDRESS}"
    # Their tickets only (not Sam's, where Li was copied), each with its conversation.
    assert sorted(t["number"] for t in tickets) == sorted([story.mailed.pk, story.portal.pk])
    mailed = next(t for t in tickets if t["number"] == story.mailed.pk)
    assert mailed["subject"] == "Refund for order 1001"
    assert "Please refund order 1001" in mailed["messages"][0]["body_text"]
    assert [m["direction"] for m in mailed["messages"]] == ["inbound", "outbound"]
    assert {e["kind"] for e in mailed["events"]} >= {"created", "message"}
    [attachment] = mailed["messages"][0]["attachments"]
    assert attachment["filename"] == "receipt.txt"
    assert files == {attachment["path"]: ATTACHMENT + b"\n"} or files[
        attachment["path"]
    ].startswith(ATTACHMENT)
    portal = next(t for t in tickets if t["number"] == story.portal.pk)
    assert [(a["kind"], a["score"]) for a in portal["survey_answers"]] == [("csat", 4)]
    entry = AuditEntry.objects.get(kind=AuditKind.EXPORT)
    assert entry.actor == personas.admin and entry.target_label == f"customer #{li.pk}"
    assert entry.data == {"tickets": 2}


@pytest.mark.parametrize("who", ["agent_a", "manager"])
def test_only_admins_export(personas: Personas, story: Story, who: str) -> None:
    response = client_for(getattr(personas, who)).get(export_url(personas.customer.pk))
    assert response.status_code == 403 and "detail" in response.json()
    assert not AuditEntry.objects.filter(kind=AuditKind.EXPORT).exists()


def test_export_answers_401_404_405(personas: Personas) -> None:
    assert client_for(None).get(export_url(personas.customer.pk)).status_code == 401
    admin = client_for(personas.admin)
    assert admin.get(export_url(999999)).status_code == 404
    assert admin.post(export_url(personas.customer.pk)).status_code == 405


def test_the_ticket_page_link_downloads_the_zip(personas: Personas, story: Story) -> None:
    admin = Client()
    admin.force_login(personas.admin)
    response = admin.get(reverse("privacy:export", args=[personas.customer.pk]))
    assert response.status_code == 200
    customer, tickets, _ = read_zip(b"".join(response.streaming_content))
    assert customer["email"] == ADDRESS and len(tickets) == 2
    agent = Client()
    agent.force_login(personas.agent_a)
    assert agent.get(reverse("privacy:export", args=[personas.customer.pk])).status_code == 403


def test_the_command_writes_the_zip(personas: Personas, story: Story, tmp_path: Path) -> None:
    path = tmp_path / "li.zip"
    call_command("export_customer", ADDRESS, str(path), stdout=io.StringIO())
    customer, tickets, files = read_zip(path.read_bytes())
    assert customer["email"] == ADDRESS and len(tickets) == 2 and len(files) == 1
    entry = AuditEntry.objects.get(kind=AuditKind.EXPORT)
    assert entry.actor_label == "manage.py export_customer"
    with pytest.raises(CommandError, match="No customer"):
        call_command("export_customer", "nobody@example.test", str(path))
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_customer", ADDRESS, str(tmp_path / "missing" / "x.zip"))
