from collections.abc import Iterator
from typing import Any

import pytest

from tests.webhooks.receiver import Receiver, running_receiver


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A receiver on localhost, which webhooks may reach only with WEBHOOK_ALLOW_PRIVATE."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    yield from running_receiver()


@pytest.fixture(autouse=True)
def _forget_endpoints() -> Iterator[None]:
    """Endpoints a test made are rolled back with it: the processes' lists are reloaded,
    so that no later test pays a query for an endpoint that is gone."""
    yield
    from webhooks.subscriptions import _cache

    _cache.bump()
