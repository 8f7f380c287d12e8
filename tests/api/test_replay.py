"""A signature nonce is accepted once, for as long as its request's timestamp would be."""

from __future__ import annotations

from lookalike.api.replay import LocalNonceCache
from tests.service.test_limits import Clock


def test_a_nonce_is_good_once_per_access_key():
    cache = LocalNonceCache(Clock())
    assert cache.first_use("key", "n1", expires_at=200)
    assert not cache.first_use("key", "n1", expires_at=200)
    assert cache.first_use("other-key", "n1", expires_at=200)


def test_a_nonce_is_forgotten_once_its_request_could_no_longer_pass_the_clock():
    clock = Clock()
    cache = LocalNonceCache(clock)
    cache.first_use("key", "old", expires_at=clock.now + 10)
    cache.first_use("key", "young", expires_at=clock.now + 1000)
    clock.now += 11
    assert cache.first_use("key", "new", expires_at=clock.now + 10)
    assert len(cache) == 2  # "old" is gone, so memory follows the request rate, not the uptime
    assert not cache.first_use("key", "young", expires_at=clock.now + 1000)
