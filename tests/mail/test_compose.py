"""The reply email (tickets/mail/compose.py): HTML and text, signature, quote, images."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from tests.conftest import Personas
from tests.factories import make_ticket
from tickets import services
from tickets.mail import compose
from tickets.mail.outbound import build_email
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return make_ticket(
        personas.mailbox_a,
        personas.customer,
        subject="Printer on fire",
        body_text="It smokes.\nWhat now?",
    )


def sent(message: Message) -> Any:
    raw = build_email(message).message().as_bytes(policy=policy.default)
    return message_from_bytes(raw, policy=policy.default)


def test_a_reply_goes_out_as_html_with_a_plain_text_alternative(
    personas: Personas, ticket: Ticket
) -> None:
    reply = services.reply(ticket, personas.agent_a, "Please **unplug it**.\n\n- wait\n- retry")
    email = sent(reply)
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    html = email.get_body(("html",)).get_content()
    text = email.get_body(("plain",)).get_content()
    assert "<p>Please <strong>unplug it</strong>.</p>" in html
    assert "<li>wait</li>" in html
    assert text.startswith("Please **unplug it**.\n\n- wait\n- retry\n")
    assert f"/portal/requests/{ticket.pk}/" in html and f"/portal/requests/{ticket.pk}/" in text
    # The stored body is what the agent wrote: search, figures and plain displays read it.
    reply.refresh_from_db()
    assert reply.body_text == "Please **unplug it**.\n\n- wait\n- retry"
    assert "<strong>unplug it</strong>" in reply.body_html


def test_the_agents_signature_wins_over_the_mailboxs(personas: Personas, ticket: Ticket) -> None:
    box = personas.mailbox_a
    box.signature = "The Acme support team"
    box.save()
    agent = personas.agent_a
    agent.signature = "**Ana** · Support lead"
    agent.save()
    email = sent(services.reply(ticket, agent, "Done."))
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "\n-- \n**Ana** · Support lead\n" in text
    assert "<strong>Ana</strong> · Support lead" in html
    assert "Acme support team" not in text + html

    # No signature of their own: the mailbox's; neither: the product's name.
    agent.signature = "  "
    agent.save()
    assert compose.signature_for(agent, ticket) == "The Acme support team"
    box.signature = ""
    box.save()
    ticket.mailbox.refresh_from_db()
    assert compose.signature_for(agent, ticket) == "Tandem"
    assert compose.signature_for(None, ticket) == "Tandem"


def test_the_earlier_conversation_is_quoted_under_the_reply(
    personas: Personas, ticket: Ticket
) -> None:
    # Notes and automatic messages are never what a reply quotes.
    services.add_note(ticket, personas.agent_a, "Internal: VIP customer")
    reply = services.reply(ticket, personas.agent_a, "Unplug it.")
    assert compose.quoted_message(reply) == ticket.messages.earliest("created_at")
    email = sent(reply)
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    when = timezone.localtime(ticket.messages.earliest("created_at").created_at)
    attribution = f"On {when:%a, %-d %b %Y at %H:%M}, Li Wei wrote:"
    assert f"\n{attribution}\n> It smokes.\n> What now?\n" in text
    assert text.index("Unplug it.") < text.index("-- \n") < text.index(attribution)
    assert attribution in html
    assert '<blockquote type="cite"' in html and "<p>It smokes.<br>What now?</p>" in html
    assert "VIP" not in text + html

    # The next reply quotes the agent's reply, its formatting kept in HTML.
    services.reply(ticket, personas.agent_b, "**Noted**")
    later = services.reply(ticket, personas.agent_a, "Anything else?")
    email = sent(later)
    assert "> **Noted**" in email.get_body(("plain",)).get_content()
    assert "<p><strong>Noted</strong></p></blockquote>" in email.get_body(("html",)).get_content()


def test_a_reply_to_a_german_customer_carries_its_fixed_words_in_german(
    personas: Personas, ticket: Ticket
) -> None:
    """The link's label and the quote's attribution are the mail's own words, so they
    follow the customer's language (the agent's words are theirs to choose)."""
    personas.customer.language = "de"
    personas.customer.save(update_fields=["language"])
    reply = services.reply(ticket, personas.agent_a, "Bitte ziehen Sie den Stecker.")
    email = sent(reply)
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    when = timezone.localtime(ticket.messages.earliest("created_at").created_at)
    with translation.override("de"):
        day = date_format(when, "D, j. M Y")
    attribution = f"Am {day} um {when:%H:%M} schrieb Li Wei:"
    assert "Diese Anfrage online ansehen:" in text and attribution in text
    assert "Diese Anfrage online ansehen:" in html and attribution in html
    assert "View this request online" not in text + html and " wrote:" not in text


def test_the_app_shows_the_sent_quote_collapsed_and_the_reply_formatted(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    reply = services.reply(ticket, personas.agent_a, "Please **unplug it**.\n\n> my own quote")
    client.force_login(personas.agent_a)
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    body = page[page.index(f'id="message-{reply.pk}"') :]
    body = body[: body.index("</li>")]
    assert "<strong>unplug it</strong>" in body
    # The agent's own blockquote shows; the email's quote is folded away.
    assert "<blockquote>\n<p>my own quote</p>\n</blockquote>" in body
    folded = body[body.index('<details class="mail-quoted">') :]
    assert "Show quoted text" in folded and "Li Wei wrote:" in folded and "It smokes." in folded
    assert '<details class="mail-quoted" open' not in body
    assert compose.conversation_quotes(list(ticket.messages.all()), ticket)[reply.pk] == (
        compose.quote_html(compose.quoted_message(reply), ticket)
    )


def test_a_pasted_image_goes_inline_in_a_related_part(personas: Personas, ticket: Ticket) -> None:
    image = SimpleUploadedFile("image-1a2b3c.png", PNG, content_type="image/png")
    manual = SimpleUploadedFile("manual.pdf", b"%PDF-1.4 manual", content_type="application/pdf")
    reply = services.reply(
        ticket,
        personas.agent_a,
        "See:\n![image-1a2b3c.png](attachment:image-1a2b3c.png)",
        attachments=[image, manual],
    )
    inline = reply.attachments.get(filename="image-1a2b3c.png")
    assert inline.inline and inline.content_id.endswith("@tandem.test")
    assert not reply.attachments.get(filename="manual.pdf").inline
    email = sent(reply)
    assert email.get_content_type() == "multipart/mixed"
    alternative, pdf = email.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text_part, related = alternative.iter_parts()
    assert related.get_content_type() == "multipart/related"
    html_part, image_part = related.iter_parts()
    assert f'<img src="cid:{inline.content_id}"' in html_part.get_content()
    assert image_part["Content-ID"] == f"<{inline.content_id}>"
    assert image_part.get_content() == PNG
    assert pdf.get_filename() == "manual.pdf"
    assert "[image: image-1a2b3c.png]" in text_part.get_content()


def test_automatic_messages_go_out_as_stored(personas: Personas, ticket: Ticket) -> None:
    message = services.add_message(
        ticket, direction="outbound", body_text="We got your **message**.", automatic=True
    )
    email = sent(message)
    assert email.get_content_type() == "text/plain"
    assert email.get_content() == "We got your **message**.\n"
