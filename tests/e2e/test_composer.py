"""The composer in a real browser: a formatted reply with a signature, read back at a real
SMTP server (aiosmtpd) as HTML and as text."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket
from tests.integration.conftest import SmtpServer, wait_for
from tests.integration.conftest import smtp_server as smtp_server  # the fixture, shared
from tickets.models import DeliveryStatus, Direction, MailSecurity

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_formatted_reply_with_a_signature_reaches_the_mail_server_as_html_and_text(
    page: Any,
    personas: Personas,
    smtp_server: SmtpServer,
    eager_tasks: None,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    box = personas.mailbox_a
    box.smtp_host, box.smtp_port = smtp_server.host, smtp_server.port
    box.smtp_security = MailSecurity.NONE
    box.signature = "The Acme support team"
    box.save()
    agent = personas.agent_a
    agent.signature = "**Ana Lopez** · Support lead"
    agent.save()
    ticket = make_ticket(
        box, personas.customer, subject="Printer on fire", body_text="It smokes.\nWhat now?"
    )

    sign_in(page, agent.email)
    page.goto(f"/tickets/{ticket.number}/")
    reply = page.locator("#reply-body")
    reply.fill("Please ")
    page.get_by_role("button", name="Bold", exact=True).click()
    page.keyboard.type("unplug it")  # over the selected placeholder
    reply.press("End")
    page.keyboard.type(" first.")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Bulleted list").click()
    page.keyboard.type("Wait ten minutes")
    page.keyboard.press("Enter")
    reply.press("Control+Shift+8")  # the same, from the keyboard
    page.keyboard.type("Plug it back in")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    reply.press("Control+i")
    page.keyboard.type("Thanks")
    assert reply.input_value() == (
        "Please **unplug it** first.\n\n- Wait ten minutes\n- Plug it back in\n\n_Thanks_"
    )

    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#reply-preview")
    preview.locator("strong", has_text="unplug it").wait_for()
    assert preview.locator("li").all_inner_texts() == ["Wait ten minutes", "Plug it back in"]
    assert preview.locator("strong", has_text="Ana Lopez").count() == 1  # her signature
    page.get_by_role("button", name="Preview").click()  # back to writing
    assert reply.is_visible()

    page.get_by_role("button", name="Send reply").click()
    shown = page.locator(".msg-outbound strong", has_text="unplug it")
    shown.wait_for()
    # The conversation shows the quoted history folded under the reply.
    quoted = page.locator(".msg-outbound details.mail-quoted")
    assert quoted.get_attribute("open") is None
    assert "Show quoted text" in quoted.inner_text()

    mail = wait_for(lambda: smtp_server.recorder.messages, "the reply at the SMTP server")
    assert len(mail) == 1 and mail[0]["rcpt_tos"] == ["li@customer.test"]
    email = message_from_bytes(mail[0]["data"], policy=policy.default)
    assert email.get_content_type() == "multipart/alternative"
    html = email.get_body(("html",)).get_content()
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "<p>Please <strong>unplug it</strong> first.</p>" in html
    assert "<li>Wait ten minutes</li>" in html and "<em>Thanks</em>" in html
    assert "<strong>Ana Lopez</strong> · Support lead" in html
    assert "Li Wei wrote:" in html and '<blockquote type="cite"' in html
    assert "It smokes." in html[html.index("<blockquote") :]
    assert text.startswith("Please **unplug it** first.\n\n- Wait ten minutes\n")
    assert "\n-- \n**Ana Lopez** · Support lead\n" in text
    assert "Li Wei wrote:\n> It smokes.\n> What now?\n" in text
    assert "Acme support team" not in html + text  # hers wins over the mailbox's
    sent = ticket.messages.get(direction=Direction.OUTBOUND)
    assert sent.delivery_status == DeliveryStatus.SENT
