"""helpdesk.ratelimit: one counter per scope and identity, in Redis, from the first attempt."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from helpdesk.cache import writer
from helpdesk.ratelimit import Rate, RateLimited


def test_a_rate_counts_until_the_limit_then_refuses() -> None:
    rate = Rate("test-signups", 2, 60)
    assert not rate.reached("Ann@Example.test")
    assert not rate.hit("ann@example.test")
    assert not rate.hit(" ANN@example.test ")  # one identity, however it is typed
    assert rate.reached("ann@example.test")
    assert rate.hit("ann@example.test")
    with pytest.raises(RateLimited):
        rate.enforce("ann@example.test")
    # Another identity, and the same one in another scope, count on their own.
    assert not rate.hit("bob@example.test")
    assert not Rate("test-other", 2, 60).hit("ann@example.test")
    # The window runs from the first attempt; the address is not in the key.
    key = cache.make_and_validate_key(rate.cache_key("ann@example.test"))
    assert 0 < writer().ttl(key) <= 60
    assert "ann" not in key
    assert cache.get(rate.cache_key("ann@example.test")) == 4


def test_a_limit_of_zero_counts_nothing() -> None:
    rate = Rate("test-off", 0, 60)
    assert not any(rate.hit("ann@example.test") for _ in range(5))
    assert cache.get(rate.cache_key("ann@example.test")) is None


def test_a_batch_counts_like_single_hits_in_two_round_trips() -> None:
    rate = Rate("test-batch", 3, 60)
    rate.hit("ann@example.test")
    batch = rate.batch(["ann@example.test", "bob@example.test"])
    assert [batch.hit("ann@example.test") for _ in range(3)] == [False, False, True]
    assert not batch.hit("bob@example.test")
    assert not batch.hit("new@example.test")  # not read up front: counted from zero
    batch.save()
    assert cache.get(rate.cache_key("ann@example.test")) == 4
    assert cache.get(rate.cache_key("new@example.test")) == 1
    assert rate.hit("bob@example.test") is False
    assert rate.reached("ann@example.test")
