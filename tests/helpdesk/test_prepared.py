"""helpdesk.postgres.Prepared: a queryset compiled once, run with each call's values."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet

from helpdesk.postgres import Prepared
from tests.conftest import Personas
from tests.factories import make_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _of_customer(customer: int) -> QuerySet[Ticket]:
    return Ticket.objects.select_related("mailbox", "customer").filter(customer_id=customer)


def test_rows_are_the_querysets_with_each_runs_values(
    personas: Personas, django_assert_num_queries
) -> None:
    first = make_ticket(personas.mailbox_a, personas.customer)
    other = make_ticket(personas.mailbox_b, personas.other_customer)
    prepared = Prepared(_of_customer, customer=-1_234_567)
    for customer, ticket in ((personas.customer, first), (personas.other_customer, other)):
        with django_assert_num_queries(1):
            (row,) = prepared.rows(customer=customer.pk)
            # select_related objects come with the row.
            assert row.customer.email == customer.email
            assert row.mailbox.name == ticket.mailbox.name
        assert row.pk == ticket.pk and row.subject == ticket.subject
    assert prepared.rows(customer=-1) == []


def test_a_marker_missing_from_the_statement_is_refused() -> None:
    prepared = Prepared(lambda customer, ticket: _of_customer(customer), customer=-1, ticket=-2)
    with pytest.raises(ValueError, match="ticket"):
        prepared.rows(customer=1, ticket=2)
