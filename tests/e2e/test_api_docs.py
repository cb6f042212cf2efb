"""The API docs render in a real browser under our CSP (Swagger UI came from a CDN that
the CSP blocks, and the page was blank)."""

from typing import Any

import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_show_every_operation_without_a_csp_violation(
    page: Any, personas: Personas
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.on("requestfailed", lambda r: refused.append(r.url))
    sign_in(page, personas.agent_a.email)
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 5
    assert "/api/v1/tickets/" in page.locator("body").inner_text()
    assert refused == []
