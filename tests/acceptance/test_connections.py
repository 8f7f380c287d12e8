"""Slow and greedy clients: a request's headers and body must arrive within their time limits, and open
connections are bounded. The tests wait for what the server does (an answer, a closed socket), never for a
length of time; the generous timeouts only end a hang."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from lookalike.api.connections import SLOW_BODY_GRACE
from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, make_client, search_name
from tests.acceptance.server import ServerProcess

WAIT = 120  # seconds a test waits for the server before failing: under any load, far past the limits


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server with short time limits, so that the tests see them pass."""
    args = ("--header-timeout", "1", "--body-timeout", "2")
    process = ServerProcess(tmp_path_factory.mktemp("strict") / "data", extra_args=args).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server that takes 4 connections at once, with limits long enough never to pass in a test, and no
    body too slow to keep its connection."""
    args = (
        "--max-connections",
        "4",
        "--header-timeout",
        "600",
        "--body-timeout",
        "600",
        "--slow-body-rate",
        "0",
    )
    process = ServerProcess(tmp_path_factory.mktemp("crowded") / "data", extra_args=args).start()
    yield process
    process.stop()


def connect(server: ServerProcess) -> socket.socket:
    host, port = server.endpoint.split(":")
    return socket.create_connection((host, int(port)), timeout=WAIT)


def everything_until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def json_answer(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


HALF_HEADERS = b"POST / HTTP/1.1\r\nHost: h\r\nx-acs-action: AddImage\r\n"
HALF_BODY = HALF_HEADERS + b"content-length: 1000\r\n\r\nInstanceName=x"
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"


@pytest.mark.parametrize(("sent", "part"), [(b"", "headers"), (HALF_HEADERS, "headers"), (HALF_BODY, "body")])
def test_a_request_that_does_not_arrive_in_time_gets_408_and_its_connection_closed(strict, sent, part):
    with connect(strict) as sock:
        sock.sendall(sent)
        status, answer = json_answer(everything_until_closed(sock))
    assert (status, answer["Code"]) == (408, "RequestTimeout")
    assert f"its {part} did not arrive within" in answer["Message"]


def test_the_next_request_on_a_kept_alive_connection_has_the_same_limit(strict):
    with connect(strict) as sock:
        sock.sendall(HEALTH)
        first = b""
        while b'"ok"}' not in first:
            first += sock.recv(65536)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # and the rest never comes
        status, answer = json_answer(everything_until_closed(sock))
    assert first.startswith(b"HTTP/1.1 200")
    assert (status, answer["Code"]) == (408, "RequestTimeout")


def test_clients_that_send_in_time_are_served_by_the_strict_server(strict, photos):
    instance = create_instance(strict.data_dir)
    for mode in ("acs3", "rpc-v2"):
        client = make_client(strict.endpoint, mode)
        add(client, instance, "p", mode, photos["coffee"])
        assert search_name(client, instance, "p", mode).auctions


def health(server: ServerProcess) -> bytes:
    """The server's whole answer to a health check on a connection of its own."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        return everything_until_closed(sock)


def busy(server: ServerProcess) -> socket.socket:
    """A connection whose request is being read: its headers are in (the server said so), half its body."""
    sock = connect(server)
    sock.sendall(HALF_HEADERS + b"expect: 100-continue\r\ncontent-length: 1000\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 100")  # the action is reading the body now
    sock.sendall(b"InstanceName=x")
    return sock


def test_past_the_most_connections_a_new_one_gets_503_at_once_and_room_comes_back(crowded):
    held = [busy(crowded) for _ in range(4)]
    status, answer = json_answer(health(crowded))
    assert (status, answer["Code"]) == (503, "ServiceUnavailable")
    for sock in held:
        sock.close()
    # Room comes back as soon as the server has seen them close: ask until it has (each try waits for its
    # answer), within the bound that only ends a hang.
    deadline = time.monotonic() + WAIT
    while (answer := health(crowded)).startswith(b"HTTP/1.1 503") and time.monotonic() < deadline:
        pass
    assert answer.startswith(b"HTTP/1.1 200")


def test_connections_that_send_nothing_make_room_for_one_that_does(crowded):
    """Past the cap, the connection that has waited longest for its headers is closed for the new one."""
    waiting = [connect(crowded) for _ in range(3)]
    for sock in waiting:
        sock.sendall(HALF_HEADERS)
    held = busy(crowded)
    try:
        assert health(crowded).startswith(b"HTTP/1.1 200")
        # The room was made before the answer was sent, so the closed one's answer is there already.
        closed, _, _ = select.select(waiting, [], [], 0)
        assert closed == [waiting[0]]
        status, answer = json_answer(everything_until_closed(waiting[0]))
        assert (status, answer["Code"]) == (408, "RequestTimeout")
    finally:
        for sock in [*waiting, held]:
            sock.close()


@pytest.fixture(scope="module")
def trickled(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server that takes 2 connections at once and judges a body slower than 1 MB a second too slow."""
    args = ("--max-connections", "2", "--header-timeout", "600", "--body-timeout", "600")
    args += ("--slow-body-rate", str(2**20))
    process = ServerProcess(tmp_path_factory.mktemp("trickled") / "data", extra_args=args).start()
    yield process
    process.stop()


def test_bodies_trickled_in_on_every_connection_make_room_for_one_that_is_not(trickled):
    """Past the cap, with no connection waiting for headers, the slowest body's connection is closed."""
    held = [busy(trickled) for _ in range(2)]
    try:
        time.sleep(
            SLOW_BODY_GRACE
        )  # the bodies' rates are judged after that (any longer only makes them slower)
        assert health(trickled).startswith(b"HTTP/1.1 200")
        closed, _, _ = select.select(held, [], [], 0)
        assert len(closed) == 1
        status, answer = json_answer(everything_until_closed(closed[0]))
        assert (status, answer["Code"]) == (408, "RequestTimeout")
        assert "too slow" in answer["Message"]
    finally:
        for sock in held:
            sock.close()


def test_a_request_that_is_not_http_gets_the_apis_json(strict):
    with connect(strict) as sock:
        sock.sendall(b"HELLO THERE\r\n\r\n")
        status, answer = json_answer(everything_until_closed(sock))
    assert (status, answer["Code"]) == (400, "BadRequest")
