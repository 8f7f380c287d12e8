"""Per-instance request rates: a token bucket that saves up at most one second of requests."""

from __future__ import annotations

import pytest

from lookalike.service.limits import LocalRateLimiter


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_second_of_requests_then_a_wait_that_says_how_long():
    clock = Clock()
    limiter = LocalRateLimiter(clock)
    assert [limiter.admit("shop/search", 4) for _ in range(4)] == [None] * 4
    assert limiter.admit("shop/search", 4) == pytest.approx(0.25)
    clock.now += 0.1
    assert limiter.admit("shop/search", 4) == pytest.approx(0.15)
    clock.now += 0.15
    assert limiter.admit("shop/search", 4) is None


def test_idle_time_saves_up_no_more_than_one_second():
    clock = Clock()
    limiter = LocalRateLimiter(clock)
    assert limiter.admit("b", 2) is None
    clock.now += 3600
    assert [limiter.admit("b", 2) for _ in range(3)][-1] is not None


def test_buckets_are_independent():
    limiter = LocalRateLimiter(Clock())
    assert limiter.admit("shop/add", 1) is None
    assert limiter.admit("shop/add", 1) is not None
    assert limiter.admit("shop/delete", 1) is None
    assert limiter.admit("other/add", 1) is None
