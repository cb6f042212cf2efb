"""An email on the ticket page in a real browser: remote images held back until the agent
loads them, inline cid: images in place, quoted history folded, a failed send's retry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.mail.conftest import load
from tickets import services
from tickets.mail import delivery
from tickets.mail.intake import ingest_message
from tickets.models import DeliveryStatus, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _outside(page: Any, live_server: Any) -> list[str]:
    """Every request for another origin, answered here so nothing leaves the machine."""
    asked: list[str] = []

    def answer(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=204)

    page.route(lambda url: not url.startswith(live_server.url), answer)
    return asked


def test_remote_images_wait_for_the_agent_and_inline_images_show(
    page: Any, live_server: Any, personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    remote = ingest_message(load("html_remote_image.eml"), mailbox=personas.mailbox_a)
    inline = ingest_message(load("inline_cid.eml"))
    asked = _outside(page, live_server)
    sign_in(page, personas.agent_a.email)

    page.goto(f"/tickets/{remote.ticket_id}/")
    body = page.locator(".mail-body").first
    assert "charged twice" in body.inner_text()
    assert asked == []
    with page.expect_request_finished(lambda request: "tracker.example" in request.url):
        page.get_by_role("button", name="Load images").click()
    page.wait_for_function("document.querySelector('.mail-html img[src^=\"http\"]')")
    assert any("tracker.example" in url for url in asked)

    page.goto(f"/tickets/{inline.ticket_id}/")
    image = page.locator(".mail-html img").first
    image.wait_for()
    assert image.get_attribute("src").startswith(f"/tickets/{inline.ticket_id}/attachments/")
    assert page.evaluate("document.querySelector('.mail-html img').naturalWidth") > 0
    assert "Résumé.pdf" in page.locator(".attachments").inner_text()


def test_quoted_history_folds_and_a_failed_send_shows_the_answer_and_retries(
    page: Any, live_server: Any, personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ingest_message(load("plain.eml"))
    result = ingest_message(load("reply.eml"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    reply = services.reply(ticket, personas.agent_a, "A technician is on the way.")
    Message.objects.filter(pk=reply.pk).update(delivery_status=DeliveryStatus.SENDING)
    delivery.mark_failed(
        reply, "The mail server answered 550: mailbox unavailable", will_retry=False
    )
    sign_in(page, personas.agent_a.email)
    page.goto(f"/tickets/{ticket.pk}/")

    customer = page.locator(f"#message-{result.message_pk}")
    quoted = customer.locator("details.mail-quoted")
    assert not quoted.locator(".mail-text").is_visible()
    quoted.locator("summary").click()
    assert "the printer on floor 3" in quoted.inner_text()

    sent = page.locator(f"#message-{reply.pk}")
    assert "550: mailbox unavailable" in sent.locator(".delivery-error").inner_text()
    sent.get_by_role("button", name="Retry sending").click()
    page.get_by_text("Sending again.").wait_for()
    assert "Queued" in page.locator(f"#message-{reply.pk} .delivery").inner_text()
    assert (
        not page.locator(f"#message-{reply.pk}").get_by_role("button", name="Retry sending").count()
    )
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED

    # The composer's controls stay inside it at every width (on a laptop screen they ran
    # off its left edge once the sender line wrapped).
    for width in (1280, 1100, 1000):
        page.set_viewport_size({"width": width, "height": 900})
        form = page.locator("form[data-pane=reply]").bounding_box()
        attach = page.locator("form[data-pane=reply] label.attach").bounding_box()
        assert attach["x"] >= form["x"], width
