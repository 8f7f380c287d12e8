"""Per-instance request rates: a token bucket that saves up at most one second of requests, shared by every
process on the data directory."""

from __future__ import annotations

import pytest

from lookalike.service.limits import SharedRateLimiter
from tests.processes import in_processes


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(tmp_path, clock) -> SharedRateLimiter:
    return SharedRateLimiter(tmp_path / "limits.sqlite3", clock=clock)


def test_a_second_of_requests_then_a_wait_that_says_how_long(limiter, clock):
    assert [limiter.admit("shop/search", 4) for _ in range(4)] == [None] * 4
    assert limiter.admit("shop/search", 4) == pytest.approx(0.25)
    clock.now += 0.1
    assert limiter.admit("shop/search", 4) == pytest.approx(0.15)
    clock.now += 0.15
    assert limiter.admit("shop/search", 4) is None


def test_idle_time_saves_up_no_more_than_one_second(limiter, clock):
    assert limiter.admit("b", 2) is None
    clock.now += 3600
    assert [limiter.admit("b", 2) for _ in range(3)][-1] is not None


def test_a_rate_that_does_not_divide_a_second_still_admits_it_whole(limiter):
    assert [limiter.admit("b", 3) for _ in range(4)][:3] == [None] * 3
    assert limiter.admit("b", 3) == pytest.approx(1 / 3, abs=1e-5)


def test_buckets_are_independent(limiter):
    assert limiter.admit("shop/add", 1) is None
    assert limiter.admit("shop/add", 1) is not None
    assert limiter.admit("shop/delete", 1) is None
    assert limiter.admit("other/add", 1) is None


def admitted_in_a_process(path, wal: bool, now: float, calls: int, per_second: int) -> int:
    limiter = SharedRateLimiter(path, wal=wal, clock=Clock(now))
    return sum(limiter.admit("shop/search", per_second) is None for _ in range(calls))


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_processes_count_against_one_limit(tmp_path, wal):
    """Four processes ask at once, at one instant: between them they get one second's worth, no more."""
    path, now = tmp_path / "limits.sqlite3", 1_700_000_000.0
    admitted = in_processes(admitted_in_a_process, [(path, wal, now, 40, 30)] * 4)
    assert sum(admitted) == 30
    later = SharedRateLimiter(path, wal=wal, clock=Clock(now + 0.5))
    assert later.admit("shop/search", 30) is None  # 15 more by now
