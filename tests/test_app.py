"""The application's wiring: how a stopping server closes its data."""

from __future__ import annotations

import threading

from lookalike.app import close_within


def test_closing_runs_every_closer_in_order_and_says_it_ended():
    closed: list[str] = []
    assert close_within(60, lambda: closed.append("components"), lambda: closed.append("nonces"))
    assert closed == ["components", "nonces"]


def test_closing_that_takes_too_long_is_left_behind(caplog):
    """A closer that does not end (a stand-in for hundreds of collections on a busy machine) holds the stop
    up for the time given, not longer; it goes on in the background until the process exits."""
    release, closed = threading.Event(), threading.Event()

    def slow() -> None:
        release.wait()
        closed.set()

    assert not close_within(0.05, slow)
    assert "still closing" in caplog.text
    release.set()
    assert closed.wait(60)


def test_a_closer_that_fails_is_logged_and_the_stop_goes_on(caplog):
    def broken() -> None:
        raise RuntimeError("disk gone")

    assert close_within(60, broken)
    assert "closing the data directory failed" in caplog.text and "disk gone" in caplog.text
