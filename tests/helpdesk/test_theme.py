"""The colour scheme switch: light, dark or the system's, kept on the signed-in person and
per browser in a cookie, and applied on every layout (agent workspace, portal and help
center, survey pages)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def _html_tag(client: Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return page.content.decode().split(">", 2)[1]  # after <!doctype html>


def test_a_chosen_scheme_is_kept_and_applied_on_every_layout(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.agent_a)
    assert "data-theme" not in _html_tag(client, "/")  # the system's scheme by default
    answer = client.post("/theme/", {"theme": "dark", "next": "/search/?q=x"})
    assert answer.status_code == 302 and answer["Location"] == "/search/?q=x"
    assert answer.cookies["theme"].value == "dark"
    assert 'data-theme="dark"' in _html_tag(client, "/")
    assert 'data-theme="dark"' in _html_tag(client, "/help/")
    client.post("/theme/", {"theme": "light", "next": "/"})
    assert 'data-theme="light"' in _html_tag(client, "/help/")
    # Back to the system's: the cookie goes, and so does the attribute.
    client.post("/theme/", {"theme": "system", "next": "/"})
    assert "data-theme" not in _html_tag(client, "/")


def test_the_switch_is_on_the_pages_and_refuses_bad_input(personas: Personas) -> None:
    client = Client()
    page = client.get("/help/").content.decode()
    assert 'name="theme"' in page and 'action="/theme/"' in page
    # An unknown value means the system's; a foreign "next" goes home, never off-site.
    answer = client.post("/theme/", {"theme": "<purple>", "next": "https://evil.test/"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert "data-theme" not in _html_tag(client, "/help/")
    client.cookies["theme"] = "<script>"
    assert "data-theme" not in _html_tag(client, "/help/")
    assert client.get("/theme/").status_code == 405


def test_the_style_guide_is_for_admins(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.admin)
    page = client.get("/style/")
    assert page.status_code == 200
    html = page.content.decode()
    examples = ("badge-pending", "badge-score-bad", 'type="number"', 'type="file"', "kpi-value")
    for example in examples:
        assert example in html
    client.force_login(personas.agent_a)
    assert client.get("/style/").status_code == 403
    assert Client().get("/style/").status_code == 302  # to the sign-in page


def test_a_signed_in_persons_choice_follows_them_to_another_device(personas: Personas) -> None:
    laptop, phone = Client(), Client()
    laptop.force_login(personas.agent_a)
    phone.force_login(personas.agent_a)
    phone.cookies["theme"] = "light"  # what this browser was set to before
    laptop.post("/theme/", {"theme": "dark", "next": "/"})
    personas.agent_a.refresh_from_db()
    assert personas.agent_a.theme == "dark"
    assert 'data-theme="dark"' in _html_tag(phone, "/")
    # "System" is a choice too: it overrides the browser's old cookie.
    laptop.post("/theme/", {"theme": "system", "next": "/"})
    assert "data-theme" not in _html_tag(phone, "/")
    # Signed out, the browser's own cookie applies.
    phone.logout()  # (the test client's sign-out drops every cookie)
    phone.cookies["theme"] = "light"
    assert 'data-theme="light"' in _html_tag(phone, "/help/")
