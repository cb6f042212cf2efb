"""The help widget: identities, origins, the frame's headers, filing, and what a visitor
may follow (tests/e2e/test_widget.py drives it in Chromium across two origins)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from audit.models import AuditEntry
from helpdesk.ratelimit import Rate
from tests.conftest import Personas
from tests.factories import make_article, make_mailbox, make_ticket, make_user
from tickets import services as ticket_services
from tickets.models import Channel, Direction
from widget import live, services, views
from widget.models import WidgetSite, WidgetTicket, normalize_origin

ORIGIN = "https://shop.example.com"


def _run(coroutine_function: Any) -> Any:
    """Run an async test body on its own loop in its own thread: another test of this
    process (Playwright's sync API) may have left an event loop running in this thread."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(coroutine_function())))
    thread.start()
    thread.join()
    return result[0]


def make_site(personas: Personas, **fields: object) -> WidgetSite:
    defaults: dict[str, object] = {
        "name": "Shop",
        "allowed_origins": [ORIGIN],
        "mailbox": personas.mailbox_a,
    }
    return WidgetSite.objects.create(**{**defaults, **fields})


def file(site: WidgetSite, email: str = "visitor@example.com", **fields: object):
    values: dict[str, object] = {
        "email": email,
        "name": "Vi",
        "subject": "Checkout fails",
        "body": "The pay button does nothing.",
        "page_url": f"{ORIGIN}/checkout",
        "verified": False,
    }
    return services.file_ticket(site, **{**values, **fields})


# Identity


def test_a_hash_of_the_address_with_the_sites_secret_verifies(personas: Personas) -> None:
    site = make_site(personas)
    good = services.identity_hash(site.secret, "Li@Customer.test")
    assert services.verified_email(site, "li@customer.test", good) == "li@customer.test"
    assert services.verified_email(site, "li@customer.test", good.upper()) == "li@customer.test"


def test_a_wrong_hash_or_another_address_does_not_verify(personas: Personas) -> None:
    site = make_site(personas)
    good = services.identity_hash(site.secret, "li@customer.test")
    assert services.verified_email(site, "li@customer.test", "0" * 64) is None
    assert services.verified_email(site, "sam@other.test", good) is None
    assert services.verified_email(site, "li@customer.test", "") is None


def test_another_sites_secret_does_not_verify(personas: Personas) -> None:
    site = make_site(personas)
    other = make_site(personas, name="Blog", allowed_origins=["https://blog.example.com"])
    theirs = services.identity_hash(other.secret, "li@customer.test")
    assert services.verified_email(site, "li@customer.test", theirs) is None


def test_a_rotated_secret_stops_old_hashes(personas: Personas) -> None:
    site = make_site(personas)
    old = services.identity_hash(site.secret, "li@customer.test")
    services.rotate_secret(site)
    site.refresh_from_db()
    assert services.verified_email(site, "li@customer.test", old) is None
    assert AuditEntry.objects.filter(action="widget secret rotated").count() == 1


# Origins


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.com/", "https://shop.example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_origins_are_kept_as_browsers_send_them(value: str, origin: str) -> None:
    assert normalize_origin(value) == origin


@pytest.mark.parametrize(
    "value",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/path",
        "https://*.example.com",
        "https://shop.example.com:99999",
        "https://user@shop.example.com",
        "javascript:alert(1)",
        "https://shop.example.com https://evil.test",
    ],
)
def test_anything_but_an_origin_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        normalize_origin(value)


def test_the_settings_form_names_a_bad_origin(client, personas: Personas) -> None:
    client.force_login(personas.admin)
    response = client.post(
        reverse("widget:settings"),
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example.com\nshop.example.com/x",
            "mailbox": personas.mailbox_a.pk,
            "enabled": "on",
        },
    )
    assert response.status_code == 400
    assert "is not an origin" in response.content.decode()
    assert not WidgetSite.objects.exists()


def test_admins_add_a_site_and_get_its_snippet_audited(client, personas: Personas) -> None:
    client.force_login(personas.admin)
    response = client.post(
        reverse("widget:settings"),
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example.com/\nhttp://localhost:3000",
            "mailbox": personas.mailbox_a.pk,
            "enabled": "on",
        },
    )
    site = WidgetSite.objects.get()
    assert response.status_code == 302
    assert site.allowed_origins == ["https://shop.example.com", "http://localhost:3000"]
    page = client.get(reverse("widget:settings-site", args=[site.pk])).content.decode()
    assert f'data-site="{site.key}"' in page
    assert AuditEntry.objects.filter(action="widget site created").count() == 1


def test_the_settings_screen_is_for_admins_only(client, personas: Personas) -> None:
    client.force_login(personas.manager)
    assert client.get(reverse("widget:settings")).status_code == 403


# The frame


def test_the_frame_may_be_framed_by_the_sites_origins_only(client, personas: Personas) -> None:
    site = make_site(personas, allowed_origins=[ORIGIN, "http://localhost:3000"])
    response = client.get(reverse("widget:frame"), {"site": site.key})
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert f"frame-ancestors {ORIGIN} http://localhost:3000" in policy
    assert "X-Frame-Options" not in response
    # Every other page keeps refusing frames.
    other = client.get(reverse("widget:settings"))
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]
    assert other["X-Frame-Options"] == "DENY"


def test_an_unknown_or_disabled_site_has_no_frame(client, personas: Personas) -> None:
    site = make_site(personas, enabled=False)
    assert client.get(reverse("widget:frame"), {"site": site.key}).status_code == 404
    assert client.get(reverse("widget:frame"), {"site": "nope"}).status_code == 404


# Search and filing


def test_search_counts_suggestions_on_the_visit_and_filing_closes_it(
    client, personas: Personas
) -> None:
    site = make_site(personas)
    make_article("Reset your password", "Use the link on the sign-in page.")
    visit = services.start_visit()
    found = client.get(
        reverse("widget:search"), {"site": site.key, "q": "password", "visit": visit.pk}
    ).json()
    assert [a["title"] for a in found["articles"]] == ["Reset your password"]
    opened = client.get(found["articles"][0]["url"])
    assert opened.status_code == 302
    visit.refresh_from_db()
    assert (visit.suggestions_shown, visit.suggestions_opened) == (1, 1)
    ticket = file(site, visit_id=str(visit.pk))
    visit.refresh_from_db()
    assert visit.ticket == ticket


def test_contact_files_a_chat_ticket_carrying_the_page(client, personas: Personas) -> None:
    site = make_site(personas)
    response = client.post(
        f"{reverse('widget:contact')}?site={site.key}",
        {
            "email": "visitor@example.com",
            "name": "Vi",
            "subject": "Checkout fails",
            "body": "The pay button does nothing.",
            "page_url": f"{ORIGIN}/checkout?step=2",
        },
    )
    assert response.status_code == 201
    widget_ticket = WidgetTicket.objects.select_related("ticket").get()
    ticket = widget_ticket.ticket
    assert (ticket.channel, ticket.mailbox, widget_ticket.verified) == (
        Channel.CHAT,
        personas.mailbox_a,
        False,
    )
    first = ticket.messages.get()
    assert first.page_url == f"{ORIGIN}/checkout?step=2"
    assert first.sender_identity == "not verified"
    assert services.followed_ticket(response.json()["token"]) == ticket
    client.force_login(personas.agent_a)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert f"{ORIGIN}/checkout?step=2" in page


def test_a_signed_identity_is_marked_verified(client, personas: Personas) -> None:
    site = make_site(personas)
    client.post(
        f"{reverse('widget:contact')}?site={site.key}",
        {
            "email": "li@customer.test",
            "subject": "Invoice",
            "body": "Where is it?",
            "user_hash": services.identity_hash(site.secret, "li@customer.test"),
        },
    )
    widget_ticket = WidgetTicket.objects.select_related("ticket").get()
    assert widget_ticket.verified
    assert widget_ticket.ticket.customer == personas.customer


def test_a_page_off_the_sites_origins_is_not_kept(client, personas: Personas) -> None:
    site = make_site(personas)
    client.post(
        f"{reverse('widget:contact')}?site={site.key}",
        {
            "email": "v@example.com",
            "subject": "Hi",
            "body": "Hello",
            "page_url": "https://evil.test/phish",
        },
    )
    assert WidgetTicket.objects.get().ticket.messages.get().page_url == ""


def test_bad_contact_input_is_a_400_naming_the_fields(client, personas: Personas) -> None:
    site = make_site(personas)
    response = client.post(
        f"{reverse('widget:contact')}?site={site.key}", {"email": "not-an-address"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "subject", "body"}
    assert not WidgetTicket.objects.exists()


def test_a_client_address_may_file_only_so_many(client, personas: Personas, monkeypatch) -> None:
    site = make_site(personas)
    monkeypatch.setattr(views, "CONTACTS_PER_IP", Rate("widget-contact-ip", limit=1, window=60))
    url = f"{reverse('widget:contact')}?site={site.key}"
    form = {"email": "v@example.com", "subject": "Hi", "body": "Hello"}
    assert client.post(url, form).status_code == 201
    refused = client.post(url, form)
    assert refused.status_code == 429
    assert WidgetTicket.objects.count() == 1


# What a visitor may follow


def test_notes_are_never_shown_to_the_visitor(personas: Personas) -> None:
    site = make_site(personas)
    ticket = file(site)
    ticket_services.add_note(ticket, personas.agent_a, "Internal: refund them")
    ticket_services.reply(ticket, personas.agent_a, "We are on it.")
    bodies = [m["body"] for m in services.new_messages(ticket.pk, 0)]
    assert bodies == ["The pay button does nothing.", "We are on it."]


def test_a_token_follows_its_own_conversation_only(client, personas: Personas) -> None:
    site = make_site(personas)
    mine = file(site)
    token = services.conversation_token(site, mine)
    url = reverse("widget:conversation")
    assert client.get(url, {"token": token}).json()["number"] == mine.pk
    # Another customer's ticket, not opened from the widget, and a token we did not sign.
    theirs = make_ticket(personas.mailbox_a, personas.other_customer)
    signed = signing.dumps({"s": site.pk, "t": theirs.pk}, salt=services.TOKEN_SALT)
    assert client.get(url, {"token": signed}).status_code == 404
    forged = signing.dumps({"s": site.pk, "t": mine.pk}, key="not ours", salt=services.TOKEN_SALT)
    assert client.get(url, {"token": forged}).status_code == 404
    # A widget ticket of another site, with this site's id in the token.
    other_site = make_site(personas, name="Blog")
    other = file(other_site, email="sam@other.test")
    crossed = signing.dumps({"s": site.pk, "t": other.pk}, salt=services.TOKEN_SALT)
    assert client.get(url, {"token": crossed}).status_code == 404
    assert client.get(reverse("widget:stream"), {"token": forged}).status_code == 404


def test_expired_tokens_follow_nothing(personas: Personas, monkeypatch) -> None:
    site = make_site(personas)
    token = services.conversation_token(site, file(site))
    monkeypatch.setattr(services, "TOKEN_MAX_AGE", -1)
    with pytest.raises(Http404):
        services.read_token(token)


def test_replying_from_the_widget_adds_the_customers_message(client, personas: Personas) -> None:
    site = make_site(personas)
    ticket = file(site)
    token = services.conversation_token(site, ticket)
    response = client.post(reverse("widget:reply"), {"token": token, "body": "Still broken"})
    assert response.status_code == 201
    last = ticket.messages.order_by("-id").first()
    assert (last.direction, last.body_text) == (Direction.INBOUND, "Still broken")
    assert client.post(reverse("widget:reply"), {"token": token}).status_code == 400


# Live updates


def test_a_customer_visible_change_nudges_the_stream_after_commit(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:
    site = make_site(personas)
    ticket = file(site)
    listener = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    listener.subscribe(services.channel_name(ticket.pk))
    assert listener.get_message(timeout=2)["type"] == "subscribe"
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.reply(ticket, personas.agent_a, "We are on it.")
    message = listener.get_message(timeout=2)
    listener.close()
    assert message is not None and message["type"] == "message"


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_new_public_messages_and_skips_notes() -> None:
    site = WidgetSite.objects.create(name="Shop", allowed_origins=[ORIGIN], mailbox=make_mailbox())
    ticket = file(site)
    first = ticket.messages.get()
    staff = make_user(email="s@staff.test")
    ticket_services.add_note(ticket, staff, "secret note")
    answer = ticket_services.reply(ticket, staff, "Answer")

    async def first_events() -> list[str]:
        events = []
        async for chunk in live.stream(ticket.pk, first.pk):
            if chunk.startswith(": waiting"):
                break
            events.append(chunk)
        return events

    events = _run(first_events)
    sent = [json.loads(e.split("data: ", 1)[1]) for e in events if "data: " in e]
    assert [m["id"] for m in sent] == [answer.pk]
    assert events[1].startswith(f"id: {answer.pk}\n")


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_stream_still_reads_the_database(monkeypatch) -> None:
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(live, "RECHECK", 0.05)
    site = WidgetSite.objects.create(name="Shop", allowed_origins=[ORIGIN], mailbox=make_mailbox())
    ticket = file(site)
    staff = make_user(email="s@staff.test")
    first = ticket.messages.get()

    async def answer_after_a_wait() -> list[str]:
        chunks = live.stream(ticket.pk, first.pk)
        assert (await anext(chunks)).startswith("retry:")
        assert (await anext(chunks)).startswith(": waiting")
        # The agent answers while the stream waits, with no Redis to wake it.
        await sync_to_async(ticket_services.reply)(ticket, staff, "Answer")
        found = await anext(chunks)
        await chunks.aclose()
        return [found]

    (found,) = _run(answer_after_a_wait)
    assert '"body": "Answer"' in found


# The panel's language


def test_the_panel_speaks_french_when_the_page_does(client, personas: Personas) -> None:
    site = make_site(personas)
    # The launcher passes the page's language (data-lang, else <html lang>) to the frame.
    script = client.get(reverse("widget:script")).content.decode()
    assert '"fr": "Aide"' in script and '"de": "Hilfe"' in script and '"": "Help"' in script
    assert "lang: lang" in script
    frame = client.get(
        reverse("widget:frame"), {"site": site.key, "lang": "fr-CA"}, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert '<html lang="fr">' in frame and 'data-lang="fr"' in frame
    for text in ("Comment pouvons-nous", "Écrivez-nous", "Votre conversation", "Envoyer"):
        assert text in frame, text
    # The strings its JavaScript shows come from the frame too, in the same language.
    assert 'data-you="Vous"' in frame and 'data-support="Assistance"' in frame
    assert "How can we help?" not in frame
    # Without a lang, the browser's; an unknown one changes nothing.
    german = client.get(reverse("widget:frame"), {"site": site.key}, HTTP_ACCEPT_LANGUAGE="de")
    assert 'data-you="Sie"' in german.content.decode()
    english = client.get(reverse("widget:frame"), {"site": site.key, "lang": "xx"})
    assert "How can we help?" in english.content.decode()
    # The panel's calls carry the language: errors come back in it.
    response = client.post(
        f"{reverse('widget:contact')}?site={site.key}&lang=fr", {"email": "", "subject": ""}
    )
    assert response.status_code == 400
    assert response.json()["errors"]["email"][0]["message"] == "Ce champ est obligatoire."
