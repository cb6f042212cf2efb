"""The service selectors' lookups."""

from __future__ import annotations

import pytest

from service import selectors
from service.models import AccountHealth
from tests.factories import make_customer


@pytest.mark.django_db
def test_health_of_without_an_account_is_none() -> None:
    """No account named, no row: not the first customer's, whose organization is null
    (found by mypy: the organization lookup took a None id)."""
    customer = make_customer()
    AccountHealth.objects.create(customer=customer, score=42)

    found = selectors.health_of(customer_id=customer.pk)
    assert found is not None and found.score == 42
    assert selectors.health_of() is None
