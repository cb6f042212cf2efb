"""The feedback pages through their doors: the workspace, the ticket page's panel, the
portal and the help center."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from feedback import services
from feedback.models import Ask, AskVia, FeedbackItem, Notice
from tests.conftest import Personas
from tests.factories import make_user
from tests.feedback.conftest import Loop, plan_field, ship
from tickets.models import Role, Ticket

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_agent_list_filters_and_reads_a_page_in_fixed_queries(
    loop: Loop, personas: Personas, django_assert_num_queries: Any
) -> None:
    services.create_item(personas.agent_a, title="Dark mode", kind="bug")
    agent = client_for(personas.agent_a)
    agent.get("/feedback/")  # the session and the user's first reads
    with django_assert_num_queries(2):  # the count, the page
        page = agent.get("/feedback/", {"kind": "feature"}).content.decode()
    assert "CSV export" in page and "Dark mode" not in page
    page = agent.get("/feedback/", {"status": "shipped"}).content.decode()
    assert "No item matches these filters" in page
    assert agent.get("/feedback/", {"status": "nonsense"}).status_code == 200


def test_item_page_lists_who_asked_with_plan_and_no_health(loop: Loop, personas: Personas) -> None:
    plan_field()
    page = client_for(personas.manager).get(f"/feedback/{loop.item.pk}/").content.decode()
    for text in ("Ana Acme", "Bob Globex", "Acme", "Globex", "Enterprise", "Starter"):
        assert text in page
    assert 'id="asker-count">2<' in page
    assert "Asks per week" in page


def test_status_is_for_managers_and_shipping_leads_to_the_note(
    loop: Loop, personas: Personas
) -> None:
    url = f"/feedback/{loop.item.pk}/status/"
    assert client_for(personas.agent_a).post(url, {"status": "shipped"}).status_code == 403
    response = client_for(personas.manager).post(url, {"status": "shipped"})
    assert response.status_code == 302
    assert response["Location"] == f"/feedback/{loop.item.pk}/notes/"
    assert client_for(personas.manager).post(url, {"status": "gone"}).status_code == 400
    loop.item.refresh_from_db()
    assert loop.item.status == "shipped"


def test_the_note_is_the_canned_text_edited_and_sent_once(loop: Loop, personas: Personas) -> None:
    ship(loop.item, personas)
    agent = client_for(personas.agent_a)
    url = f"/feedback/{loop.item.pk}/notes/"
    form = agent.get(url).content.decode()
    assert "You asked us for “CSV export”" in form and "Send 2 notes" in form
    data = {
        "mailbox": personas.mailbox_a.pk,
        "subject": "Shipped: CSV export",
        "body": "Hi {{customer.first_name}}, it is out. Thanks for asking!",
    }
    assert agent.post(url, {**data, "body": ""}).status_code == 400
    response = agent.post(url, data, follow=True)
    assert "Told 2 customers." in response.content.decode()
    agent.post(url, data)
    assert Notice.objects.count() == 2
    assert "Everyone who asked has been told" in agent.get(url).content.decode()
    assert 'id="told-count">2<' in agent.get(f"/feedback/{loop.item.pk}/").content.decode()


def test_ticket_panel_links_an_item_or_creates_one_inline(loop: Loop, personas: Personas) -> None:
    ticket = loop.tickets[0]
    other = services.create_item(personas.agent_a, title="Dark mode")
    agent = client_for(personas.agent_a)
    page = agent.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'hx-get="/feedback/tickets/{ticket.pk}/panel/"' in page
    panel = agent.get(f"/feedback/tickets/{ticket.pk}/panel/").content.decode()
    assert 'id="feedback-panel"' in panel and "CSV export" in panel and "<html" not in panel

    url = f"/feedback/tickets/{ticket.pk}/link/"
    panel = agent.post(url, {"item": other.pk}, headers={"HX-Request": "true"}).content.decode()
    assert "Dark mode" in panel and "<html" not in panel
    panel = agent.post(
        url, {"title": "Excel export", "kind": "feature"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Excel export" in panel
    new = FeedbackItem.objects.get(title="Excel export")
    assert Ask.objects.get(item=new).customer == loop.ana

    refused = agent.post(url, {"title": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert "Choose an item, or give a new one a title." in refused.content.decode()

    unlink = f"/feedback/tickets/{ticket.pk}/unlink/{other.pk}/"
    agent.post(unlink, headers={"HX-Request": "true"})
    assert not Ask.objects.filter(item=other).exists()


def test_linking_goes_through_ticket_visibility_and_roles(loop: Loop, personas: Personas) -> None:
    url = f"/feedback/tickets/{loop.tickets[0].pk}/link/"
    # Agent B does not work mailbox A: the ticket is a 404 to them.
    assert client_for(personas.agent_b).post(url, {"item": loop.item.pk}).status_code == 404
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a])
    assert client_for(light).post(url, {"item": loop.item.pk}).status_code == 403
    assert Ask.objects.filter(item=loop.item).count() == 3


def test_portal_shows_a_customer_their_own_asks_only(loop: Loop, personas: Personas) -> None:
    ship(loop.item, personas)
    ana = client_for(loop.ana.user).get("/portal/feedback/").content.decode()
    assert "CSV export" in ana and "Shipped" in ana
    li = client_for(personas.customer.user).get("/portal/feedback/").content.decode()
    assert "CSV export" not in li and "Nothing yet" in li
    assert client_for(personas.agent_a).get("/portal/feedback/").status_code == 302


def test_roadmap_shows_public_items_and_signed_in_customers_vote(
    loop: Loop, personas: Personas
) -> None:
    draft = services.create_item(personas.agent_a, title="Secret plan")
    anonymous = Client()
    assert "CSV export" not in anonymous.get("/help/roadmap/").content.decode()
    assert anonymous.get(f"/help/roadmap/{loop.item.pk}/").status_code == 404

    services.update_item(loop.item, personas.manager, public=True, status="planned")
    roadmap = anonymous.get("/help/roadmap/").content.decode()
    assert "CSV export" in roadmap and "Secret plan" not in roadmap
    assert anonymous.get(f"/help/roadmap/{draft.pk}/").status_code == 404
    vote = f"/help/roadmap/{loop.item.pk}/vote/"
    assert "/portal/sign-in/" in anonymous.post(vote, {"on": "1"})["Location"]

    li = client_for(personas.customer.user)
    li.post(vote, {"on": "1"})
    li.post(f"/help/roadmap/{loop.item.pk}/follow/", {"on": "1"})
    assert set(Ask.objects.filter(customer=personas.customer).values_list("via", flat=True)) == {
        AskVia.VOTE,
        AskVia.FOLLOW,
    }
    assert "Voted" in li.get(f"/help/roadmap/{loop.item.pk}/").content.decode()
    assert "CSV export" in li.get("/portal/feedback/").content.decode()
    assert li.post(f"/help/roadmap/{draft.pk}/vote/", {"on": "1"}).status_code == 404


def test_a_shipped_item_becomes_a_changelog_entry_in_one_step(
    loop: Loop, personas: Personas
) -> None:
    ship(loop.item, personas)
    agent = client_for(personas.agent_a)
    response = agent.post(
        f"/feedback/{loop.item.pk}/update/",
        {
            "title": "CSV export is here",
            "update_body": "Export any view as CSV.",
            "mailbox": personas.mailbox_a.pk,
            "subject": "New: CSV export",
            "body": "Hi {{customer.first_name}}, CSV export is out.",
        },
    )
    assert response.status_code == 302
    assert Notice.objects.filter(reason="update").count() == 2
    assert Ticket.objects.filter(tags__contains=["feedback"]).count() == 2
    changelog = Client().get("/help/updates/").content.decode()
    assert "CSV export is here" in changelog and "Export any view as CSV." in changelog


def test_the_roadmap_speaks_the_customers_language(loop: Loop, personas: Personas) -> None:
    """A customer whose language is German reads the roadmap, an item and My feedback in
    German, whatever their browser says; the agent's pages follow the agent's browser."""
    services.update_item(loop.item, personas.manager, public=True, status="planned")
    services.set_customer_ask(loop.item, personas.customer, AskVia.VOTE, on=True)
    personas.customer.language = "de"
    personas.customer.save(update_fields=["language"])
    li = client_for(personas.customer.user)
    english_browser = {"HTTP_ACCEPT_LANGUAGE": "en"}

    roadmap = li.get("/help/roadmap/", **english_browser).content.decode()
    assert '<html lang="de"' in roadmap
    assert "<h1>Roadmap</h1>" in roadmap and "Produktneuigkeiten" in roadmap
    assert "Geplant" in roadmap and "1 Stimme" in roadmap  # the column and the votes
    assert "Vote for or follow" not in roadmap
    item = li.get(f"/help/roadmap/{loop.item.pk}/", **english_browser).content.decode()
    assert "Abgestimmt" in item and "Funktionswunsch" in item
    mine = li.get("/portal/feedback/", **english_browser).content.decode()
    assert "Die Ideen und Probleme, die Sie uns genannt haben" in mine
    changelog = li.get("/help/updates/", **english_browser).content.decode()
    assert "Noch keine Neuigkeiten" in changelog
    # Anyone else reads their browser's language; the agent's list theirs.
    french = Client().get("/help/roadmap/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nouveautés produit" in french and "Prévu" in french
    agent = client_for(personas.agent_a).get("/feedback/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Hoja de ruta pública" in agent.content.decode()
