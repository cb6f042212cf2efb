"""An agent who changes their email address keeps the credit of their past work.

Ticket history names agents by address (assignee events, message authors, as the import
format does), so figures recomputed from it must still find the agent by the address
they had then.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from metrics.models import TicketFigures
from metrics.services import recompute_all, refresh_ticket_figures
from tests.conftest import Personas
from tests.factories import T0
from tickets import services
from tickets.models import Direction, PastEmail, User

pytestmark = pytest.mark.django_db


def _worked_by_ana(p: Personas) -> int:
    ticket = services.create_ticket(
        mailbox=p.mailbox_a,
        customer=p.customer,
        subject="Printer",
        body_text="It jams.",
        direction=Direction.INBOUND,
        actor=services.MAIL,
        at=T0,
    )
    services.update_ticket(ticket, at=T0 + timedelta(minutes=5), assignee=p.agent_a)
    services.reply(ticket, p.agent_a, "Fixed.", at=T0 + timedelta(hours=1), status_after="solved")
    return ticket.pk


def test_figures_recomputed_after_an_address_change_still_credit_the_agent(
    personas: Personas,
) -> None:
    ticket_id = _worked_by_ana(personas)
    recompute_all()
    before = TicketFigures.objects.get(pk=ticket_id)
    assert (before.assignee_id, before.first_reply_agent_id) == (personas.agent_a.pk,) * 2

    ana = User.objects.get(pk=personas.agent_a.pk)
    ana.email = "ana.new@staff.test"
    ana.save()
    assert list(ana.past_emails.values_list("email", flat=True)) == ["agent.a@staff.test"]

    # The full recompute and the incremental one (a later event rereads the history).
    recompute_all()
    after = TicketFigures.objects.get(pk=ticket_id)
    assert (after.assignee_id, after.first_reply_agent_id) == (personas.agent_a.pk,) * 2
    assert refresh_ticket_figures(ticket_id)
    assert TicketFigures.objects.get(pk=ticket_id).first_reply_agent_id == personas.agent_a.pk


def test_the_ticket_page_names_the_agent_of_an_old_address(personas: Personas) -> None:
    ticket_id = _worked_by_ana(personas)
    ana = User.objects.get(pk=personas.agent_a.pk)
    ana.email = "ana.new@staff.test"
    ana.save(update_fields=["email"])
    client = Client()
    client.force_login(personas.manager)
    page = client.get(f"/tickets/{ticket_id}/").content.decode()
    assert "assigned to Ana" in page and "assigned to agent.a@staff.test" not in page


def test_an_address_names_whoever_has_it_now_then_its_latest_past_owner(
    personas: Personas,
) -> None:
    ana, ben = (User.objects.get(pk=p.pk) for p in (personas.agent_a, personas.agent_b))
    ana.email = "ana.new@staff.test"
    ana.save()
    assert User.objects.by_email(["agent.a@staff.test"]) == {"agent.a@staff.test": ana}
    # Ben takes over Ana's old address, then moves on as well: Ben is its latest owner.
    ben.email = "agent.a@staff.test"
    ben.save()
    assert User.objects.by_email(["agent.a@staff.test"]) == {"agent.a@staff.test": ben}
    ben.email = "ben.new@staff.test"
    ben.save()
    assert User.objects.by_email(["agent.a@staff.test"])["agent.a@staff.test"] == ben
    # Saving anything else records nothing; unknown addresses name no one.
    ana.first_name = "Ana María"
    ana.save()
    assert PastEmail.objects.filter(user=ana).count() == 1
    assert User.objects.by_email(["nobody@staff.test", ""]) == {}
