"""Freed memory goes back: the middleware that gives it back once no request is in flight.

The give-back here records its calls instead of trimming glibc's arenas, to see when it runs; the real
trim's effect on a server's memory is checked by tests/acceptance/test_memory.py.
"""

from __future__ import annotations

import asyncio
import threading

from lookalike.memory import GiveBackWhenIdle, return_big_blocks


def test_memory_is_given_back_once_the_last_request_in_flight_is_answered():
    given_back, calls = threading.Event(), []

    def record() -> None:
        calls.append(middleware.in_flight)
        given_back.set()

    async def burst() -> None:
        answer = asyncio.Event()

        async def app(scope, receive, send) -> None:
            await answer.wait()

        middleware.app = app
        requests = [asyncio.create_task(middleware({"type": "http"}, None, None)) for _ in range(3)]
        while middleware.in_flight < 3:
            await asyncio.sleep(0)
        assert not given_back.is_set()  # three in flight
        answer.set()
        await asyncio.gather(*requests)

    middleware = GiveBackWhenIdle(None, give_back=record, interval=0)
    asyncio.run(burst())
    assert given_back.wait(60)
    assert calls == [0]  # once, for the whole burst, with nothing in flight


def test_other_asgi_events_are_not_requests():
    seen = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    middleware = GiveBackWhenIdle(app, give_back=lambda: None)
    asyncio.run(middleware({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"] and middleware.in_flight == 0


def test_glibc_takes_the_fixed_mmap_threshold():
    assert return_big_blocks() is True  # its effect: tests/vision/test_decode_memory.py
