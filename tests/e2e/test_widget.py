"""The help widget in Chromium across two origins: a customer's page on one origin
(a plain http.server on localhost) embeds the script of the desk on another (uvicorn on
127.0.0.1, over ASGI, against the test database). The visitor searches, writes, and the
agent's answer arrives in the open panel over server-sent events, without a reload."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from helpdesk.launcher import database_url
from tests.conftest import Personas
from tests.factories import make_article
from tickets import services as ticket_services
from tickets.models import Direction
from widget.models import WidgetSite, WidgetTicket

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def desk(transactional_db: None) -> Iterator[str]:
    """The desk on uvicorn, a real ASGI server, reading the test database."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "DEBUG": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--timeout-graceful-shutdown", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("uvicorn exited before serving")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)


def _customer_site(page_html: str) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # "localhost", not 127.0.0.1: another origin and another site than the desk's.
    return server, f"http://localhost:{server.server_address[1]}"


def test_a_visitor_searches_writes_and_sees_the_answer_live(
    browser: Any, desk: str, personas: Personas
) -> None:
    make_article("Reset your password", "Use the link on the sign-in page.")
    site = WidgetSite.objects.create(name="Shop", mailbox=personas.mailbox_a)
    html = (
        "<!doctype html><html lang='en'><head><title>Shop</title></head><body>"
        "<h1>Our shop</h1>"
        f"<script src='{desk}/widget/v1.js' data-site='{site.key}' async></script>"
        "</body></html>"
    )
    server, shop = _customer_site(html)
    site.allowed_origins = [shop]
    site.save(update_fields=["allowed_origins"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Longer than the other browser tests: the desk runs in its own uvicorn process,
    # one thread for sync views, beside the whole suite on two cores.
    context.set_default_timeout(90_000)
    streams: list[str] = []
    context.on(
        "request", lambda r: streams.append(r.url) if "/widget/v1/stream/" in r.url else None
    )
    page = context.new_page()
    try:
        page.goto(f"{shop}/pricing")
        page.get_by_role("button", name="Help").click()
        panel = page.frame_locator("iframe[data-tandem-widget=panel]")

        panel.get_by_label("Search the help center").fill("passw")
        panel.get_by_role("link", name="Reset your password").wait_for()

        panel.get_by_role("button", name="Write to us").click()
        panel.get_by_label("Your email").fill("visitor@example.com")
        panel.get_by_label("Subject").fill("Checkout fails")
        panel.get_by_label("Message").fill("The pay button does nothing.")
        panel.get_by_role("button", name="Send", exact=True).click()
        panel.locator("#w-messages li").filter(has_text="The pay button does nothing.").wait_for()

        ticket = WidgetTicket.objects.select_related("ticket").get(site=site).ticket
        assert ticket.messages.get().page_url == f"{shop}/pricing"
        # The page and its frame stay as they are: a reload would drop this mark.
        page.evaluate("window.stillHere = true")
        ticket_services.add_note(ticket, personas.agent_a, "Internal: check their card")
        ticket_services.reply(ticket, personas.agent_a, "Fixed: please try again.")
        panel.locator("#w-messages li").filter(has_text="Fixed: please try again.").wait_for()
        assert page.evaluate("window.stillHere") is True
        assert "check their card" not in panel.locator("#w-messages").inner_text()
        # One stream carried the answer: no reconnect, no polling by the page.
        assert len(streams) == 1

        panel.get_by_label("Your reply").fill("Works now, thanks!")
        panel.get_by_role("button", name="Send reply").click()
        panel.locator("#w-messages li.mine").filter(has_text="Works now, thanks!").wait_for()
        last = ticket.messages.order_by("-id").first()
        assert (last.direction, last.body_text) == (Direction.INBOUND, "Works now, thanks!")
    finally:
        context.close()
        server.shutdown()
