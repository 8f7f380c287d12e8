"""The decode budget: decodes that fit run together, the rest wait for room or are refused."""

from __future__ import annotations

import threading

import pytest

from lookalike.vision.budget import DecodeBudget, DecodeBusy
from tests.conftest import until


def holding(budget: DecodeBudget, cost: int) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """A thread that holds `cost` until told to let go: (holds, let_go, thread)."""
    holds, let_go = threading.Event(), threading.Event()

    def run() -> None:
        with budget.hold(cost):
            holds.set()
            let_go.wait()

    thread = threading.Thread(target=run)
    thread.start()
    return holds, let_go, thread


def test_decodes_that_fit_run_together():
    budget = DecodeBudget(100)
    first, let_first_go, a = holding(budget, 60)
    second, let_second_go, b = holding(budget, 40)
    assert first.wait(60) and second.wait(60)
    assert budget.used == 100
    let_first_go.set(), let_second_go.set()
    a.join(), b.join()
    assert budget.used == 0


def test_a_decode_that_does_not_fit_waits_for_room():
    budget = DecodeBudget(100, wait_seconds=120)
    first, let_first_go, a = holding(budget, 60)
    assert first.wait(60)
    second, let_second_go, b = holding(budget, 60)
    until(lambda: budget.waiting == 1)
    assert not second.is_set() and budget.used == 60
    let_first_go.set()
    assert second.wait(60)  # started once the first let go
    let_second_go.set()
    a.join(), b.join()
    assert (budget.used, budget.waiting) == (0, 0)


def test_a_decode_that_waited_too_long_is_denied_and_takes_nothing():
    budget = DecodeBudget(100, wait_seconds=0)
    first, let_go, thread = holding(budget, 80)
    assert first.wait(60)
    with pytest.raises(DecodeBusy) as denied, budget.hold(30):
        pass
    assert denied.value.retry_after_ms and denied.value.retry_after_ms > 0
    assert "decode budget" in denied.value.message
    assert budget.used == 80
    with budget.hold(20):  # what still fits goes at once
        assert budget.used == 100
    let_go.set()
    thread.join()


def test_a_picture_bigger_than_the_whole_budget_is_decoded_alone():
    budget = DecodeBudget(100, wait_seconds=120)
    with budget.hold(500):
        assert budget.used == 100
    assert budget.used == 0


def test_the_budget_is_given_back_when_the_decode_fails():
    budget = DecodeBudget(100)
    with pytest.raises(ValueError), budget.hold(70):
        raise ValueError("a corrupt picture")
    assert budget.used == 0


def test_a_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        DecodeBudget(0)
