import pytest

from tests.conftest import Personas
from tests.e2e.conftest import sign_in
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_signs_in_and_sees_their_inbox(page, personas: Personas) -> None:
    make_ticket(personas.mailbox_a, personas.customer, subject="Visible to team A")
    make_ticket(personas.mailbox_b, personas.other_customer, subject="Only team B sees this")
    sign_in(page, personas.agent_a.email)
    body = page.locator("body")
    assert "Visible to team A" in body.inner_text()
    assert "Only team B sees this" not in body.inner_text()
