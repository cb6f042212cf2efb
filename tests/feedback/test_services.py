"""The rules of feedback items: who asked and how many, who may change what, and the note
to everyone who asked, told once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from feedback import selectors, services
from feedback.models import Ask, AskVia, FeedbackItem, Notice, ProductUpdate
from tests.conftest import Personas
from tests.factories import make_customer, make_ticket, make_user
from tests.feedback.conftest import Loop, plan_field, ship
from tickets import hooks
from tickets.models import Direction, FieldDefinition, Kind, Message, Role, Status, Ticket
from tickets.services import InvalidChange, NotPermitted

pytestmark = pytest.mark.django_db


def test_counts_people_organizations_tickets_and_votes(loop: Loop, personas: Personas) -> None:
    services.set_customer_ask(_public(loop, personas), personas.customer, AskVia.VOTE, on=True)
    # Linking the same ticket again and voting twice count once.
    services.link_ticket(loop.item, loop.tickets[0], personas.agent_a)
    services.set_customer_ask(loop.item, personas.customer, AskVia.VOTE, on=True)

    item = selectors.item_with_counts(loop.item.pk)
    assert (item.asker_count, item.ticket_count, item.vote_count, item.told_count) == (3, 3, 1, 0)
    askers = selectors.item_askers(item, personas.manager)
    assert [row.name for row in askers.customers] == ["Ana Acme", "Bob Globex", "Li Wei"]
    assert [(row.name, row.customers) for row in askers.organizations] == [
        ("Acme", 1),
        ("Globex", 1),
    ]
    ana = askers.customers[0]
    assert ana.via == {AskVia.TICKET} and len(ana.tickets) == 2


def test_askers_are_read_in_a_fixed_number_of_queries(
    loop: Loop, personas: Personas, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        customer = make_customer(f"more{n}@acme.test", organization=loop.acme)
        services.link_ticket(loop.item, make_ticket(personas.mailbox_a, customer), personas.agent_a)
    selectors.plan_fields("customer")  # the field definitions are held per process
    with django_assert_num_queries(3):
        askers = selectors.item_askers(loop.item, personas.agent_a)
    assert len(askers.customers) == 7


def test_tickets_named_are_those_the_agent_may_open(loop: Loop, personas: Personas) -> None:
    rows = {row.name: row for row in selectors.item_askers(loop.item, personas.agent_a).customers}
    # Bob's ticket is in mailbox B, which agent A's team does not work.
    assert len(rows["Ana Acme"].tickets) == 2
    assert rows["Bob Globex"].tickets == []


def test_plan_is_the_named_field_or_every_choice_field(
    loop: Loop, personas: Personas, settings: Any
) -> None:
    plan_field()
    FieldDefinition.objects.create(
        key="tier", label="Tier", type="choice", applies_to="organization", choices=["A", "B"]
    )
    loop.acme.fields["tier"] = "A"
    loop.acme.save()
    orgs = selectors.item_askers(loop.item, personas.manager).organizations
    assert orgs[0].plan == [("Plan", "Enterprise")]
    settings.FEEDBACK_PLAN_FIELD = "no_such_field"
    orgs = selectors.item_askers(loop.item, personas.manager).organizations
    assert orgs[0].plan == [("Plan", "Enterprise"), ("Tier", "A")]


def test_health_shows_when_an_app_answers_and_is_none_otherwise(
    loop: Loop, personas: Personas
) -> None:
    assert {row.health for row in selectors.item_askers(loop.item, personas.manager).customers} == {
        None
    }

    def scores(kind: str, ids: list[int]) -> list[tuple[int, int]]:
        return [(pk, 35) for pk in ids if kind == "organization" and pk == loop.acme.pk]

    hooks.account_health.register(scores)
    try:
        orgs = selectors.item_askers(loop.item, personas.manager).organizations
    finally:
        hooks.account_health._receivers.remove(scores)
    assert [(row.name, row.health) for row in orgs] == [("Acme", 35), ("Globex", None)]


def test_trend_counts_asks_per_week(loop: Loop, personas: Personas) -> None:
    Ask.objects.filter(ticket=loop.tickets[0]).update(
        created_at=timezone.now() - timedelta(weeks=3)
    )
    Ask.objects.filter(ticket=loop.tickets[1]).update(
        created_at=timezone.now() - timedelta(weeks=30)
    )
    weeks = selectors.trend(loop.item, weeks=8)
    assert len(weeks) == 8
    assert [n for _, n in weeks] == [0, 0, 0, 0, 1, 0, 0, 1]


def test_customers_see_only_their_own_asks(loop: Loop, personas: Personas) -> None:
    loop.acme.shares_tickets = True
    loop.acme.save()
    colleague = make_customer("cy@acme.test", organization=loop.acme, user=True)
    other = services.create_item(personas.agent_a, title="Dark mode")
    services.link_ticket(other, make_ticket(personas.mailbox_a, colleague), personas.agent_a)

    assert selectors.customer_items(loop.ana) == [loop.item]
    assert selectors.customer_items(colleague) == [other]
    assert selectors.customer_items(personas.customer) == []


def _public(loop: Loop, personas: Personas) -> FeedbackItem:
    return services.update_item(loop.item, personas.manager, public=True)


def test_roadmap_shows_public_items_only(loop: Loop, personas: Personas) -> None:
    draft = services.create_item(personas.agent_a, title="Not public yet")
    declined = services.create_item(personas.agent_a, title="Declined")
    services.update_item(declined, personas.manager, status="declined", public=True)
    public = _public(loop, personas)

    roadmap = selectors.roadmap()
    assert [i.pk for items in roadmap.values() for i in items] == [public.pk]
    assert list(roadmap) == ["under_review", "planned", "shipped"]
    for hidden in (draft, declined):
        with pytest.raises(Http404):
            selectors.public_item(hidden.pk)
        with pytest.raises(InvalidChange):
            services.set_customer_ask(hidden, personas.customer, AskVia.VOTE, on=True)


def test_a_vote_or_follow_links_the_customer_like_a_ticket(loop: Loop, personas: Personas) -> None:
    item = _public(loop, personas)
    services.set_customer_ask(item, personas.customer, AskVia.FOLLOW, on=True)
    assert selectors.customer_items(personas.customer) == [item]
    assert personas.customer in selectors.askers_to_tell(item)[0]
    services.set_customer_ask(item, personas.customer, AskVia.FOLLOW, on=False)
    assert selectors.customer_items(personas.customer) == []


def test_only_managers_and_admins_change_status_or_public(loop: Loop, personas: Personas) -> None:
    for change in ({"status": "planned"}, {"public": True}):
        with pytest.raises(NotPermitted):
            services.update_item(loop.item, personas.agent_a, **change)
    # Agents change the words; the same status again is no change.
    services.update_item(loop.item, personas.agent_a, title="CSV and Excel export")
    services.update_item(loop.item, personas.agent_a, status="under_review")
    item = services.update_item(loop.item, personas.admin, status="shipped", public=True)
    assert (item.title, item.status, item.public) == ("CSV and Excel export", "shipped", True)
    assert item.shipped_at is not None


def test_light_agents_neither_create_nor_link(loop: Loop, personas: Personas) -> None:
    light = make_user(Role.LIGHT_AGENT, teams=[personas.team_a])
    with pytest.raises(NotPermitted):
        services.create_item(light, title="Anything")
    with pytest.raises(NotPermitted):
        services.link_ticket(loop.item, loop.tickets[0], light)


def test_bad_words_are_refused_on_their_field(personas: Personas) -> None:
    with pytest.raises(InvalidChange) as refused:
        services.create_item(personas.agent_a, title="  ")
    assert refused.value.field == "title"
    with pytest.raises(InvalidChange) as refused:
        services.create_item(personas.agent_a, title="A", kind="wish")
    assert refused.value.field == "kind"


def _tell(loop: Loop, personas: Personas, body: str = "") -> services.Told:
    return services.tell_askers(
        loop.item,
        personas.agent_a,
        mailbox=personas.mailbox_a,
        subject="Shipped: CSV export",
        body=body or "Hi {{customer.first_name}}, CSV export is out.",
    )


def test_shipping_notes_go_out_as_outreach_tickets_once_each(
    loop: Loop, personas: Personas
) -> None:
    with pytest.raises(InvalidChange):
        _tell(loop, personas)  # not shipped yet
    ship(loop.item, personas)

    assert _tell(loop, personas) == services.Told(told=2, already=0)
    notes = Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=["feedback"])
    assert sorted(t.customer.email for t in notes) == ["ana@acme.test", "bob@globex.test"]
    assert {t.status for t in notes} == {Status.PENDING}
    sent = Message.objects.filter(ticket__in=notes, direction=Direction.OUTBOUND)
    assert sorted(m.body_text for m in sent) == [
        "Hi Ana, CSV export is out.",
        "Hi Bob, CSV export is out.",
    ]
    assert {m.delivery_status for m in sent} == {"queued"}
    assert selectors.item_with_counts(loop.item.pk).told_count == 2

    # Sending again tells nobody twice; a new asker is told alone.
    assert _tell(loop, personas) == services.Told(told=0, already=2)
    services.link_ticket(
        loop.item, make_ticket(personas.mailbox_a, personas.customer), personas.agent_a
    )
    assert _tell(loop, personas) == services.Told(told=1, already=2)
    assert Notice.objects.filter(item=loop.item).count() == 3
    assert Ticket.objects.filter(kind=Kind.SERVICE, tags__contains=["feedback"]).count() == 3


def test_a_note_with_an_unknown_placeholder_is_refused(loop: Loop, personas: Personas) -> None:
    ship(loop.item, personas)
    with pytest.raises(InvalidChange) as refused:
        _tell(loop, personas, body="Hi {{customer.shoe_size}}")
    assert refused.value.field == "body"
    assert not Notice.objects.exists()


def test_a_shipped_item_becomes_an_update_and_its_followers_are_told(
    loop: Loop, personas: Personas
) -> None:
    ship(loop.item, personas)
    _tell(loop, personas)  # Ana and Bob told on shipping
    services.set_customer_ask(_public(loop, personas), personas.customer, AskVia.FOLLOW, on=True)

    update, told = services.publish_update(
        loop.item,
        personas.agent_a,
        title="CSV export is here",
        body="Export any view as CSV.",
        mailbox=personas.mailbox_a,
        subject="New: CSV export",
        note="Hi {{customer.first_name}}, you followed CSV export: it is out.",
    )
    assert told == services.Told(told=1, already=2)
    assert list(selectors.updates().object_list) == [update]
    assert Notice.objects.get(customer=personas.customer).reason == "update"
    with pytest.raises(InvalidChange):
        services.publish_update(
            loop.item,
            personas.agent_a,
            title="Again",
            body="x",
            mailbox=personas.mailbox_a,
            subject="s",
            note="n",
        )
    assert ProductUpdate.objects.count() == 1
