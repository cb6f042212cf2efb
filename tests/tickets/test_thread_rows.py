"""The ticket page's conversation and activity rows (tickets/templatetags/thread.py) give
out what the template loops they replaced gave out, byte for byte: every kind of message
and event, two time zones, an agent and a light agent, an open and a closed ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
from tickets import selectors, services
from tickets.models import Attachment, DeliveryStatus, Direction, Role, Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db

# The activity loop of templates/tickets/detail.html before its rows were filled in Python.
EVENTS_AS_A_TEMPLATE = """{% load i18n tandem %}        {% for event in events %}
        <li><span class="event-who">{{ event|event_actor }}</span> {{ event|event_summary }} <time class="muted small" datetime="{{ event.at|date:'c' }}" title="{{ event.at }}">{{ event.at|ago }}</time></li>
        {% empty %}<li class="muted">{% translate "No history yet." %}</li>{% endfor %}"""  # noqa: E501
EVENTS_NOW = "{% load thread %}        {% event_rows events %}"

# The conversation loop of templates/tickets/detail.html before its rows were filled in
# Python (its two includes, tickets/_message_actions.html and tickets/mail/message_body.html,
# as they stood then, are still the files).
MESSAGES_AS_A_TEMPLATE = """{% load i18n tandem thread %}      {% for message in conversation %}
        <li class="msg msg-{{ message.direction }}{% if message.automatic %} msg-automatic{% endif %}" id="message-{{ message.pk }}">
          <div class="msg-head">
            {% with who=message|sender:ticket %}<span class="avatar avatar-sm">{{ who|initials }}</span>
            <strong class="msg-who">{{ who }}</strong>{% endwith %}
            <span class="msg-kind">{% if message.direction == "note" %}{% translate 'Internal note · not visible to the customer' %}{% elif message.direction == "outbound" %}{% if message.automatic %}{% translate 'Automatic message' %}{% else %}{% translate 'Reply' %}{% endif %}{% else %}{% translate 'Customer' %}{% endif %}</span>
            {% if message.direction == "inbound" and message.sender_checks %}{% with checks=message.sender_checks %}
            <span class="sender-checks{% if message.sender_warning %} sender-checks-failed{% endif %}" {% if message.sender_warning %}role="alert" {% endif %}title="{% translate 'What our mail server found when it checked the sender:' %} {% for name, result, failed in checks %}{{ name }} {{ result }}{% if not forloop.last %}, {% endif %}{% endfor %}">{% if message.sender_warning %}{{ message.sender_warning }}{% else %}{% for name, result, failed in checks %}{{ name }} {{ result }}{% if not forloop.last %} · {% endif %}{% endfor %}{% endif %}</span>
            {% endwith %}{% endif %}
            {% if message.page_url %}<span class="msg-page">{% translate 'Sent from' %} <a href="{{ message.page_url }}" rel="noopener noreferrer" target="_blank">{{ message.page_url|truncatechars:80 }}</a>{% if message.sender_identity %} · {{ message.sender_identity }}{% endif %}</span>{% endif %}
            {% if message.direction == "outbound" and message.delivery_status %}
              {% if message.delivery_status == "queued" and message.delivery_error %}
              <span class="delivery delivery-retrying" title="{{ message.delivery_error }}">{% blocktranslate with at=message.next_attempt_at|time:"H:i" %}Retrying at {{ at }}{% endblocktranslate %}</span>
              {% else %}
              <span class="delivery delivery-{{ message.delivery_status }}" title="{{ message.delivery_error }}">{{ message.get_delivery_status_display }}{% if message.delivery_status == "sent" and message.sent_at %} {{ message.sent_at|ago }}{% endif %}</span>
              {% endif %}
            {% endif %}
            <time class="msg-time" datetime="{{ message.created_at|date:'c' }}" title="{{ message.created_at }}">{% translate "M j, H:i" context "a message's date and time" as short %}{{ message.created_at|date:short }}</time>
          </div>
          {% if message.delivery_error and message.delivery_status == "failed" or message.delivery_error and message.delivery_status == "undelivered" %}
            <div class="delivery-error" role="alert">{% blocktranslate with error=message.delivery_error %}Not delivered: {{ error }}{% endblocktranslate %}</div>
          {% elif message.delivery_error and message.delivery_status == "queued" %}
            <div class="delivery-retry" role="status">{% blocktranslate with error=message.delivery_error at=message.next_attempt_at|time:"H:i" %}Not sent yet: {{ error }} It is tried again at {{ at }}, and until it goes out; nothing to do.{% endblocktranslate %}</div>
          {% endif %}
          <div class="msg-actions" data-message-actions="{{ message.pk }}">{% include "tickets/_message_actions.html" %}</div>
          {# Sanitized HTML with remote images held back and quoted history folded (tickets/mail). #}
          {% include "tickets/mail/message_body.html" %}
          {% with attachments=message.attachments.all %}{% if attachments %}
          <ul class="attachments">
            {% for item in attachments %}
            <li><a href="{% fast_url 'tickets:attachment' ticket.number item.pk %}">{{ item.filename }}</a> <span class="muted">{{ item.size|filesizeformat }}</span></li>
            {% endfor %}
          </ul>
          {% endif %}{% endwith %}
        </li>
      {% empty %}
        <li class="empty-small">{% translate 'No messages yet.' %}</li>
      {% endfor %}
"""  # noqa: E501
MESSAGES_NOW = "{% load thread %}      {% message_rows conversation %}\n"


def _every_kind_of_message(personas: Personas) -> Ticket:
    named = make_customer(name='Ann "A&B" <Smith>', email="ann@customer.test")
    ticket = make_ticket(
        personas.mailbox_a, named, subject="<b>Printer</b>", body_text="Help <now> & then"
    )
    first = ticket.messages.get()
    first.spf_result, first.dkim_result, first.dmarc_result = "pass", "none", "fail"
    first.save(update_fields=["spf_result", "dkim_result", "dmarc_result"])
    checked = services.add_message(
        ticket,
        direction=Direction.INBOUND,
        body_text="fine",
        from_address="other@customer.test",
        from_name="O'Brien <other>",
    )
    checked.spf_result = "pass"
    checked.save(update_fields=["spf_result"])
    services.add_message(
        ticket,
        direction=Direction.INBOUND,
        body_text="see below",
        body_html='<p>Look <img src="https://tracker.example/x.png"> here</p>'
        "<blockquote><p>old</p></blockquote>",
    )
    services.add_message(ticket, direction=Direction.INBOUND, body_text="x", body_html="<p>b</p>")
    services.add_message(
        ticket, direction=Direction.INBOUND, body_text="a", from_address="x@y.test"
    )
    agent = personas.agent_a
    sent = services.reply(ticket, agent, "Sent <ok>\n> quoted\n> more")
    sent.delivery_status, sent.sent_at = DeliveryStatus.SENT, timezone.now() - timedelta(hours=2)
    sent.save(update_fields=["delivery_status", "sent_at"])
    failed = services.reply(ticket, agent, "Failed")
    failed.delivery_status, failed.delivery_error = DeliveryStatus.FAILED, "550 <no> & gone"
    failed.save(update_fields=["delivery_status", "delivery_error"])
    bounced = services.reply(ticket, agent, "Bounced")
    bounced.delivery_status, bounced.delivery_error = DeliveryStatus.UNDELIVERED, "bounce"
    bounced.save(update_fields=["delivery_status", "delivery_error"])
    retrying = services.reply(ticket, agent, "Retrying")
    retrying.delivery_error = "421 try later"
    retrying.next_attempt_at = timezone.now() + timedelta(minutes=7)
    retrying.save(update_fields=["delivery_error", "next_attempt_at"])
    services.reply(ticket, agent, "Queued")
    services.add_message(
        ticket, direction=Direction.OUTBOUND, body_text="Auto", automatic=True, send=False
    )
    note = services.add_note(ticket, agent, "Only us & <them>")
    for name, cid in (("a<b>.pdf", ""), ("logo.png", "logo@x")):
        Attachment.objects.create(
            message=note,
            file=ContentFile(b"x" * 2048, name="f.bin"),
            filename=name,
            content_type="application/pdf",
            size=2048,
            content_id=cid,
        )
    services.update_ticket(ticket, actor=Actor.agent(agent), priority="urgent", tags=["a<b"])
    services.update_ticket(ticket, actor=Actor.agent(agent), assignee=agent)
    return ticket


def _render(source: str, **context: object) -> str:
    request = RequestFactory().get("/")
    request.user = context["user"]
    return engines["django"].from_string(source).render({"csrf_token": "TOKEN", **context}, request)


def test_event_rows_are_what_the_loop_gave(personas: Personas) -> None:
    ticket = _every_kind_of_message(personas)
    events = selectors.ticket_events(ticket)
    assert len(events) >= 14
    for zone in ("UTC", "America/New_York"):
        with timezone.override(zone):
            context = {"ticket": ticket, "user": personas.agent_a, "events": events}
            assert _render(EVENTS_NOW, **context) == _render(EVENTS_AS_A_TEMPLATE, **context)


def test_no_events_say_so(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    context = {"ticket": ticket, "user": personas.agent_a, "events": []}
    for language in ("en", "de", "fr", "en"):  # each language's item held apart
        with translation.override(language):
            assert _render(EVENTS_NOW, **context) == _render(EVENTS_AS_A_TEMPLATE, **context)
    with translation.override("de"):
        assert "Noch kein Verlauf." in _render(EVENTS_NOW, **context)


@pytest.mark.parametrize("language", ["en", "de"])
def test_message_rows_are_what_the_loop_gave(personas: Personas, language: str) -> None:
    ticket = _every_kind_of_message(personas)
    widget = services.add_message(ticket, direction=Direction.INBOUND, body_text="From the site")
    widget.headers = {"Page-URL": "https://shop.example/" + "a&b" * 40, "Identity": "verified"}
    widget.save(update_fields=["headers"])
    conversation = selectors.ticket_conversation(ticket)
    assert len(conversation) >= 12
    conversation[1].sent_quote = "On Monday <you> wrote"  # type: ignore[attr-defined]
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a], email="light@staff.test")
    for zone in ("UTC", "America/New_York"):
        for user in (personas.agent_a, light):
            for status in ("open", "closed"):
                ticket.status = status
                context = {"ticket": ticket, "user": user, "conversation": conversation}
                with timezone.override(zone), translation.override(language):
                    now = _render(MESSAGES_NOW, **context)
                    assert now == _render(MESSAGES_AS_A_TEMPLATE, **context)
    assert "msg-page" in now and "mail-quoted" in now and "delivery-retrying" in now


def test_no_messages_say_so(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    context = {"ticket": ticket, "user": personas.agent_a, "conversation": []}
    for language in ("en", "fr"):
        with translation.override(language):
            assert _render(MESSAGES_NOW, **context) == _render(MESSAGES_AS_A_TEMPLATE, **context)
