"""Every route, for every role: the answer each gets is the one docs/permissions.md names.

The routes come from Django's resolver (every URL pattern, the API router's included; the
Django admin as one row), each requested with sample arguments from the fixtures below by
each role's client: GET always, and POST too for the routes that take only POST, by the
roles that must be refused (anonymous, customer, light agent), to check they are. A 500
fails; so does a route the matrix does not name: a new route must be classified there.

To rewrite the table after a deliberate change: TANDEM_WRITE_PERMISSIONS=1 pytest this file,
then read the diff of docs/permissions.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.models import ApiToken
from feedback.models import FeedbackItem
from portal.models import RequestForm
from service.models import Topic
from tests.conftest import Personas
from tests.factories import make_article, make_ticket, make_user
from tickets import saved_views, services
from tickets.models import (
    BusinessCalendar,
    FieldDefinition,
    Notification,
    Organization,
    Role,
    ViewScope,
)
from tickets.selectors import InboxQuery
from tickets.workflow.models import AutomationRule, CannedReply, SlaPolicy
from webhooks.models import WebhookDelivery, WebhookEndpoint
from widget.models import WidgetSite

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"
ROLES = ("anonymous", "customer", "light agent", "agent", "manager", "admin", "superuser")
# Roles a POST-only route is posted by: those that must be refused most often.
POSTERS = ("anonymous", "customer", "light agent")
LOGIN_PATHS = ("/login/", "/portal/sign-in/")
# Routes with no name, by their pattern: a sample path.
UNNAMED = {"favicon.ico": "/favicon.ico", "api/v1/^": "/api/v1/no-such-endpoint/"}


def routes() -> Iterator[tuple[str, str, URLPattern | None]]:
    """(route, name, pattern) of every URL pattern; the admin as one row."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Any]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route == "admin/":
                    yield route, "admin:index", None
                    continue
                inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
                yield from walk(pattern.url_patterns, route, inner)
            elif pattern.name:
                yield route, f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern
            else:
                yield route, "", pattern

    yield from walk(get_resolver().url_patterns, "", "")


class Samples:
    """One of each thing a route names, from the fixtures."""

    def __init__(self, personas: Personas) -> None:
        self.ticket = make_ticket(personas.mailbox_a, personas.customer)
        first = self.ticket.messages.get()
        services.attach_files(first, [SimpleUploadedFile("a.txt", b"hello", "text/plain")])
        self.attachment = first.attachments.get()
        self.reply = services.reply(self.ticket, personas.agent_a, "We are on it.")
        self.customer = personas.customer
        self.mailbox = personas.mailbox_a
        self.article = make_article("Resetting a password")
        self.rule = AutomationRule.objects.create(name="Sample rule", trigger="created")
        self.sla = SlaPolicy.objects.create(
            name="Sample", priority="normal", first_response_hours=4, resolution_hours=24
        )
        self.canned = CannedReply.objects.create(title="Thanks", body="Thanks!")
        self.agent = personas.agent_b
        self.team = personas.team_a
        self.organization = Organization.objects.create(name="Acme")
        self.topic = Topic.objects.create(key="refund", phrase="refund")
        self.calendar = BusinessCalendar.objects.create(name="Office hours")
        self.field = FieldDefinition.objects.create(
            key="order_number", label="Order number", type="text", applies_to="ticket"
        )
        # A public item: the roadmap's page of it answers everyone.
        self.feedback_item = FeedbackItem.objects.create(title="CSV export", public=True)
        self.saved_view = saved_views.save_view(
            personas.manager, "Everyone's", InboxQuery(), scope=ViewScope.EVERYONE
        )
        self.notification = Notification.objects.create(
            recipient=personas.agent_a, kind="mention", ticket=self.ticket, headline="Sample"
        )
        self.request_form = RequestForm.objects.create(name="Billing question")
        self.widget_site = WidgetSite.objects.create(
            name="Shop", allowed_origins=["https://shop.example.com"], mailbox=self.mailbox
        )
        self.token = ApiToken.objects.create(
            user=personas.admin, name="Sample", prefix="tdm_sample", key_hash="0" * 64
        )
        self.webhook = WebhookEndpoint.objects.create(
            url="https://hooks.example.com/", events=["ticket.created"], secret="s"
        )
        self.delivery = WebhookDelivery.objects.create(
            endpoint=self.webhook, event="ticket.created", status="delivered"
        )

    def value(self, name: str, key: str) -> Any:
        by_key: dict[str, Any] = {
            "number": self.ticket.pk,
            "attachment_id": self.attachment.pk,
            "message_id": self.reply.pk,
            "mailbox_id": self.mailbox.pk,
            "canned_id": self.canned.pk,
            "article": self.article.pk,
            "customer_id": self.customer.pk,
            "organization_id": self.organization.pk,
            "topic_id": self.topic.pk,
            "key": self.field.key,
            "view_id": self.saved_view.pk,
            "notification_id": self.notification.pk,
            "form_id": self.request_form.pk,
            "token": "not-a-token",
            "delivery_id": self.delivery.delivery_id,
            "visit": "not-a-visit",
            "item_id": self.feedback_item.pk,
            "format": "json",
            "language": "de",
            "slug": self.article.slug
            if name == "kb:article"
            else self.article.section.category.slug,
        }
        if key != "pk":
            return by_key[key]
        if "webhook" in name:
            return self.webhook.pk
        if "rule" in name:
            return self.rule.pk
        if "sla" in name:
            return self.sla.pk
        if "canned" in name:
            return self.canned.pk
        if name.startswith("portal_settings:"):
            return self.request_form.pk
        if "organization" in name:
            return self.organization.pk
        if name.startswith("widget:"):
            return self.widget_site.pk
        for part, thing in (
            ("agent", self.agent),
            ("team", self.team),
            ("mailbox", self.mailbox),
            ("calendar", self.calendar),
            ("token", self.token),
            ("field", self.field),
        ):
            if name.startswith("console:") and part in name:
                return thing.pk
        if "article" in name or name.startswith("kb:"):
            return self.article.pk
        return self.customer.pk

    def url(self, route: str, name: str, pattern: URLPattern | None) -> str:
        if pattern is None:
            return "/admin/"
        if not name:
            return UNNAMED[route]
        keys = list(pattern.pattern.regex.groupindex)
        return reverse(name, kwargs={key: self.value(name, key) for key in keys})


def answer(response: Any) -> str:
    """The class of an answer: a code, or "login" for a redirect to a sign-in page."""
    code = response.status_code
    assert code < 500, f"{response.request['PATH_INFO']}: {code}"
    if code in (301, 302, 303):
        location = response.headers.get("Location", "")
        return "login" if any(path in location for path in LOGIN_PATHS) else "redirect"
    if 200 <= code < 300:
        return "ok"
    return str(code)


def role_users(personas: Personas) -> dict[str, Any]:
    return {
        "anonymous": None,
        "customer": personas.customer.user,
        "light agent": make_user(Role.LIGHT_AGENT, teams=[personas.team_a]),
        "agent": personas.agent_a,
        "manager": personas.manager,
        "admin": make_user(Role.ADMIN),
        "superuser": personas.admin,
    }


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def measure(personas: Personas) -> dict[tuple[str, str], dict[str, str]]:
    samples = Samples(personas)
    users = role_users(personas)
    signed_in = {role: client_for(user) for role, user in users.items()}
    table: dict[tuple[str, str], dict[str, str]] = {}
    rows = list(routes())
    for route, name, pattern in rows:
        url = samples.url(route, name, pattern)
        cells = {}
        for role in ROLES:
            cells[role] = answer(signed_in[role].get(url))
        table[(route, name)] = cells
    # POST-only routes (an admin's GET is a 405), posted empty by the roles to refuse;
    # a fresh client each time, so that a sign-out signs no other request out.
    for route, name, pattern in rows:
        cells = table[(route, name)]
        if cells["admin"] != "405":
            continue
        url = samples.url(route, name, pattern)
        for role in POSTERS:
            cells[role] += " / POST " + answer(client_for(users[role]).post(url, {}))
    return table


def render(table: dict[tuple[str, str], dict[str, str]]) -> str:
    head = "| route | name | " + " | ".join(ROLES) + " |"
    rule = "|" + "---|" * (len(ROLES) + 2)
    lines = [head, rule]
    for (route, name), cells in table.items():
        lines.append(
            f"| `{route or '/'}` | {name or '-'} | " + " | ".join(cells[r] for r in ROLES) + " |"
        )
    return "\n".join(lines)


def documented() -> dict[tuple[str, str], list[str]]:
    text = DOC.read_text()
    body = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    rows = {}
    for line in body.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        route = cells[0].strip("`")
        rows[("" if route == "/" else route, "" if cells[1] == "-" else cells[1])] = cells[2:]
    return rows


def test_every_route_answers_every_role_as_the_matrix_says(personas: Personas) -> None:
    table = measure(personas)
    if os.environ.get("TANDEM_WRITE_PERMISSIONS"):
        text = DOC.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + render(table) + "\n" + text[end:])
    expected = documented()
    unclassified = [route for route in table if route not in expected]
    assert not unclassified, f"routes missing from docs/permissions.md: {unclassified}"
    gone = [route for route in expected if route not in table]
    assert not gone, f"docs/permissions.md names routes that no longer exist: {gone}"
    wrong = {
        f"{route[0]} as {role}": (want, table[route][role])
        for route, cells in expected.items()
        for role, want in zip(ROLES, cells, strict=True)
        if table[route][role] != want
    }
    assert not wrong, f"(expected, got) per route and role: {wrong}"


def test_the_matrix_holds_the_rules_of_issue_16() -> None:
    """Spot checks of the table itself, so that a rewrite cannot quietly loosen them."""
    rows = {
        route: dict(zip(ROLES, cells, strict=True)) for (route, _), cells in documented().items()
    }
    for route in ("workflow/rules/", "workflow/sla/", "workflow/sla/new/"):
        assert rows[route]["manager"] == "ok" and rows[route]["agent"] == "403"
    assert rows["tickets/<int:number>/"]["light agent"] == "ok"
    assert rows["tickets/<int:number>/reply/"]["light agent"].endswith("POST 403")
    assert rows["tickets/new/"]["light agent"] == "403"
    assert rows["dashboards/"]["light agent"] == "403"
    assert rows["settings/audit/"]["manager"] == "403"
    assert re.match("login|302|redirect", rows["admin/"]["admin"])
    assert rows["admin/"]["superuser"] == "ok"
