"""The ticket page's fixed markup ({% fixed %} with keys and holes, helpdesk/fixed_markup.py)
gives out what the same templates give rendered plainly (every block each time, its
holes as variables: the templates as they stood before the blocks, which this test
compared byte for byte with their earlier copies when the blocks came in), byte for
byte: the page and its htmx partials, for an agent, a light agent, a manager and an
admin, on open, solved, closed and snoozed tickets, with bound forms after a refused
reply, in two languages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation

from helpdesk import fixed_markup, local_cache
from helpdesk.fixed_markup import _FIXED_KEPT
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
from tickets import services, views
from tickets.access import get_ticket_for
from tickets.forms import ReplyForm
from tickets.models import Kind, Organization, Role, Status, Ticket, User
from tickets.services import Actor
from tickets.workflow.models import Reminder

pytestmark = pytest.mark.django_db

PARTIALS = ("header", "thread", "properties", "fields", "customer", "activity")


def _tickets(p: Personas) -> list[Ticket]:
    company = Organization.objects.create(name="Acme <&> Co")
    named = make_customer(name='Ann "A&B" <Smith>', email="ann@acme.test", organization=company)
    agent = Actor.agent(p.agent_a)
    fresh = make_ticket(p.mailbox_a, named, subject="<b>Printer</b> & co")
    services.update_ticket(fresh, actor=agent, cc=["x@y.test"])
    mine = make_ticket(p.mailbox_a, p.customer)
    services.update_ticket(
        mine, actor=agent, assignee=p.agent_a, priority="urgent", kind=Kind.SERVICE, tags=["a&b"]
    )
    solved = make_ticket(p.mailbox_a, p.customer)
    services.update_ticket(solved, actor=agent, status=Status.SOLVED)
    closed = make_ticket(p.mailbox_a, named)
    services.update_ticket(closed, actor=agent, status=Status.CLOSED)
    snoozed = make_ticket(p.mailbox_a, p.customer)
    services.snooze_ticket(snoozed, timezone.now() + timedelta(days=2), actor=agent)
    Reminder.objects.create(
        ticket=snoozed, agent=p.agent_a, remind_at=timezone.now() + timedelta(hours=3), note="x<y"
    )
    return [fresh, mine, solved, closed, snoozed]


def _context(user: User, number: int, **extra: Any) -> tuple[Any, dict[str, Any]]:
    request = RequestFactory().get(f"/tickets/{number}/", {"q": '"quoted" & <b>'})
    request.user = user
    request.htmx = False
    request.session = {}
    with local_cache.pinned():
        ticket = get_ticket_for(user, number)
        context = views._detail_context(request, ticket, **extra)
    context["csrf_token"] = "TOKEN"
    return request, context


def _same(name: str, request: Any, context: dict[str, Any]) -> None:
    template = engines["django"].get_template(name)
    fixed = template.render(context, request)
    fixed_markup.PLAIN = True
    try:
        plain = template.render(context, request)
    finally:
        fixed_markup.PLAIN = False
    assert fixed == plain


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_page_is_what_its_templates_give_plainly(personas: Personas, language: str) -> None:
    tickets = _tickets(personas)
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a])
    bound = ReplyForm(data={"body": "Hi <there>", "cc": "a&b@x.test", "macro": "7"})
    bound.is_valid()
    variants: list[dict[str, Any]] = [{}, {"composer": "note", "oob": True}]
    with translation.override(language):
        for user in (personas.agent_a, light, personas.manager, personas.admin):
            for ticket in tickets:
                for extra in variants:
                    request, context = _context(user, ticket.number, **extra)
                    _same("tickets/detail.html", request, context)
                    for partial in PARTIALS:
                        _same(f"tickets/detail.html#{partial}", request, context)
        request, context = _context(
            personas.agent_a, tickets[0].number, reply_form=bound, update_error="No <way>"
        )
        _same("tickets/detail.html", request, context)
        page = engines["django"].get_template("tickets/detail.html").render(context, request)
    assert "No &lt;way&gt;" in page
    assert "Hi &lt;there&gt;" in page
    number = tickets[0].number
    subject = "&lt;b&gt;Printer&lt;/b&gt; &amp; co"
    assert f'<h1><span class="num">#{number}</span> {subject}</h1>' in page
    if language == "de":
        assert "Interne Notiz" in page


def _render(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load i18n tandem thread %}" + source).render(context)


def test_holes_are_filled_and_escaped_per_request() -> None:
    block = (
        "{% fixed flag number=n text=s %}<a href=\"{% fast_url 'tickets:detail' number %}\">"
        "#{{ number }} {{ text }}</a>{% if flag %}!{% endif %}"
        "{% blocktranslate with x=text %}[{{ x }}]{% endblocktranslate %}{% endfixed %}"
    )
    source = "{% for n, s in rows %}" + block + "|{% endfor %}"
    rows = [(1, "<b>"), (22, "x&y"), (3, None)]
    assert _render(source, rows=rows, flag=True) == (
        '<a href="/tickets/1/">#1 &lt;b&gt;</a>![&lt;b&gt;]|'
        '<a href="/tickets/22/">#22 x&amp;y</a>![x&amp;y]|'
        '<a href="/tickets/3/">#3 None</a>![None]|'
    )
    # A key selects another rendering; the language is part of every key.
    assert _render(source, rows=rows[:1], flag=False) == (
        '<a href="/tickets/1/">#1 &lt;b&gt;</a>[&lt;b&gt;]|'
    )
    words = "{% fixed name=who %}{% translate 'Save' %} {{ name }}{% endfixed %}"
    with translation.override("de"):
        assert _render(words, who="<Li>") == "Speichern &lt;Li&gt;"
    assert _render(words, who="<Li>") == "Save &lt;Li&gt;"
    raw = "{% autoescape off %}{% fixed name=who %}{{ name }}{% endfixed %}{% endautoescape %}"
    assert _render(raw, who="<Li>") == "<Li>"


def test_a_block_keeps_a_bounded_number_of_renderings() -> None:
    template = engines["django"].from_string(
        "{% load tandem %}{% fixed key name=value %}{{ key }}:{{ name }}{% endfixed %}"
    )
    for key in range(_FIXED_KEPT + 10):
        assert template.render({"key": key, "value": "v"}) == f"{key}:v"
    node = next(n for n in template.template.nodelist if hasattr(n, "rendered"))
    assert len(node.rendered) == _FIXED_KEPT
    assert re.fullmatch(r"3:v", template.render({"key": 3, "value": "v"}))
