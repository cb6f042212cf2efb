"""The ticket page's conversation and activity rows (tickets/templatetags/thread.py) give
out what the template loops they replaced gave out, byte for byte: every kind of message
and event, two time zones, an agent and a light agent, an open and a closed ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone

from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
from tickets import selectors, services
from tickets.models import Attachment, DeliveryStatus, Direction, Role, Status, Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db

# The conversation loop of templates/tickets/detail.html before its rows were filled in
# Python, its two includes (tickets/_message_actions.html, tickets/mail/message_body.html)
# written in place: the markup and escaping must stay exactly this.
MESSAGES_AS_A_TEMPLATE = """{% load tandem mail %}      {% for message in conversation %}
        <li class="msg msg-{{ message.direction }}{% if message.automatic %} msg-automatic{% endif %}" id="message-{{ message.pk }}">
          <div class="msg-head">
            {% with who=message|sender:ticket %}<span class="avatar avatar-sm">{{ who|initials }}</span>
            <strong class="msg-who">{{ who }}</strong>{% endwith %}
            <span class="msg-kind">{% if message.direction == "note" %}Internal note · not visible to the customer{% elif message.direction == "outbound" %}{% if message.automatic %}Automatic message{% else %}Reply{% endif %}{% else %}Customer{% endif %}</span>
            {% if message.direction == "inbound" and message.sender_checks %}{% with checks=message.sender_checks %}
            <span class="sender-checks{% if message.sender_warning %} sender-checks-failed{% endif %}" {% if message.sender_warning %}role="alert" {% endif %}title="What our mail server found when it checked the sender: {% for name, result, failed in checks %}{{ name }} {{ result }}{% if not forloop.last %}, {% endif %}{% endfor %}">{% if message.sender_warning %}{{ message.sender_warning }}{% else %}{% for name, result, failed in checks %}{{ name }} {{ result }}{% if not forloop.last %} · {% endif %}{% endfor %}{% endif %}</span>
            {% endwith %}{% endif %}
            {% if message.direction == "outbound" and message.delivery_status %}
              {% if message.delivery_status == "queued" and message.delivery_error %}
              <span class="delivery delivery-retrying" title="{{ message.delivery_error }}">Retrying at {{ message.next_attempt_at|time:"H:i" }}</span>
              {% else %}
              <span class="delivery delivery-{{ message.delivery_status }}" title="{{ message.delivery_error }}">{{ message.get_delivery_status_display }}{% if message.delivery_status == "sent" and message.sent_at %} {{ message.sent_at|ago }}{% endif %}</span>
              {% endif %}
            {% endif %}
            <time class="msg-time" datetime="{{ message.created_at|date:'c' }}" title="{{ message.created_at }}">{{ message.created_at|date:"M j, H:i" }}</time>
          </div>
          {% if message.delivery_error and message.delivery_status == "failed" or message.delivery_error and message.delivery_status == "undelivered" %}
            <div class="delivery-error" role="alert">Not delivered: {{ message.delivery_error }}</div>
          {% elif message.delivery_error and message.delivery_status == "queued" %}
            <div class="delivery-retry" role="status">Not sent yet: {{ message.delivery_error }} It is tried again at {{ message.next_attempt_at|time:"H:i" }}, and until it goes out; nothing to do.</div>
          {% endif %}
          <div class="msg-actions" data-message-actions="{{ message.pk }}">
{% if user.may_act and message.direction == "outbound" and message.delivery_status == "failed" %}
<form method="post" action="{% url 'tickets:retry_delivery' ticket.number message.pk %}">{% csrf_token %}<button type="submit" class="btn btn-small">Retry sending</button></form>
{% endif %}
{% if user.may_act and not forloop.first and ticket.status != "closed" %}<form method="post" action="{% url 'tickets:split' ticket.number message.pk %}" class="wf-split" data-confirm="Move this message into a new ticket?">{% csrf_token %}<button type="submit" class="linklike small" title="Move this message into a new ticket">Split into new ticket</button></form>{% endif %}
</div>
          {# Sanitized HTML with remote images held back and quoted history folded (tickets/mail). #}
          <div class="msg-body mail-body" data-mail-body>
  {% if message.body_html %}
    {% if message|blocks_remote_images %}
      <p class="mail-images-blocked">Remote images in this email are blocked to protect your privacy.
        <button type="button" class="linklike" data-load-images>Load images</button></p>
    {% endif %}
    <div class="msg-html mail-html">{{ message|message_html }}</div>
  {% else %}
    {{ message|message_text }}
  {% endif %}
</div>

          {% with attachments=message.attachments.all %}{% if attachments %}
          <ul class="attachments">
            {% for item in attachments %}
            <li><a href="{% url 'tickets:attachment' ticket.number item.pk %}">{{ item.filename }}</a> <span class="muted">{{ item.size|filesizeformat }}</span></li>
            {% endfor %}
          </ul>
          {% endif %}{% endwith %}
        </li>
      {% empty %}
        <li class="empty-small">No messages yet.</li>
      {% endfor %}
"""  # noqa: E501
# The activity loop of the same page.
EVENTS_AS_A_TEMPLATE = """{% load tandem %}        {% for event in events %}
        <li><span class="event-who">{{ event|event_actor }}</span> {{ event|event_summary }} <time class="muted small" datetime="{{ event.at|date:'c' }}" title="{{ event.at }}">{{ event.at|ago }}</time></li>
        {% empty %}<li class="muted">No history yet.</li>{% endfor %}"""  # noqa: E501
MESSAGES_NOW = "{% load thread %}      {% message_rows conversation %}\n"
EVENTS_NOW = "{% load thread %}        {% event_rows events %}"


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


def test_message_and_event_rows_are_what_the_loops_gave(personas: Personas) -> None:
    ticket = _every_kind_of_message(personas)
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a], email="light@staff.test")
    conversation = selectors.ticket_conversation(ticket)
    events = selectors.ticket_events(ticket)
    assert len(conversation) == 12 and len(events) >= 14
    for zone in ("UTC", "America/New_York"):
        with timezone.override(zone):
            for user in (personas.agent_a, light):
                for status in (Status.OPEN, Status.CLOSED):
                    ticket.status = status
                    context = {"ticket": ticket, "user": user, "conversation": conversation}
                    expected = _render(MESSAGES_AS_A_TEMPLATE, **context)
                    assert _render(MESSAGES_NOW, **context) == expected
            context = {"ticket": ticket, "user": personas.agent_a, "events": events}
            assert _render(EVENTS_NOW, **context) == _render(EVENTS_AS_A_TEMPLATE, **context)
    ticket.status = Status.OPEN
    shown = _render(MESSAGES_NOW, ticket=ticket, user=personas.agent_a, conversation=conversation)
    for text in (
        "Sender not verified: DMARC fail",
        "SPF pass",
        "mail-images-blocked",
        "<details",
        "Not delivered: 550 &lt;no&gt; &amp; gone",
        "Retrying at",
        "Retry sending",
        "Split into new ticket",
        "msg-automatic",
        "a&lt;b&gt;.pdf",
        "Ann &quot;A&amp;B&quot;",
        "O&#x27;Brien &lt;other&gt;",
        "Sent 2\xa0hours ago",
    ):
        assert text in shown, text


def test_no_messages_and_no_events_say_so(personas: Personas) -> None:
    ticket = make_ticket(personas.mailbox_a, personas.customer)
    context = {"ticket": ticket, "user": personas.agent_a, "conversation": [], "events": []}
    assert _render(MESSAGES_NOW, **context) == _render(MESSAGES_AS_A_TEMPLATE, **context)
    assert _render(EVENTS_NOW, **context) == _render(EVENTS_AS_A_TEMPLATE, **context)
