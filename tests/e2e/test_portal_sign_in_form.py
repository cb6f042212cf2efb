"""The portal's sign-in forms run their script without an error: each has a field named
"method", which hid `form.method` from the script ("form.method.toLowerCase is not a
function"), so the button was never disabled against a second click."""

from typing import Any

import pytest

from tests.conftest import Personas

pytestmark = pytest.mark.django_db(transaction=True)


def test_asking_for_a_sign_in_link_raises_no_script_error(page: Any, personas: Personas) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/portal/sign-in/")
    link_form = page.locator("form").filter(has_text="Email me a sign-in link")
    link_form.get_by_label("Email").fill(personas.customer.email)
    with page.expect_navigation():
        link_form.get_by_role("button", name="Email me a sign-in link").click()
    assert errors == []
    assert "sign-in link" in page.locator("body").inner_text().lower()
