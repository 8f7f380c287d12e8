"""Connections: uvicorn's HTTP/1.1 protocol with the limits a server facing any client needs.

uvicorn closes a keep-alive connection left idle, but it waits without end for a request that never finishes
arriving, and takes every connection offered. `GuardedH11Protocol` adds, per connection:

- a deadline for the request line and headers: `header_seconds` from the connection's start, or from the
  first byte of a request that follows another on the connection;
- a deadline for the body: `body_seconds` from the end of the headers;
- a cap on open connections: past `max_connections`, the connection that has waited longest for a
  request's headers (half-sent, or idle between requests) is closed to make room, so that connections that
  send nothing cannot keep out those that do; if none is waiting, the one whose body arrives slowest, if
  slower than `slow_body_rate` over at least `SLOW_BODY_GRACE` seconds (so that bodies trickled in on every
  connection cannot either); if none of those, the new connection is answered 503.

A request that misses its deadline is answered 408 `RequestTimeout` (unless an answer already began) and its
connection closed; the action that was reading its body sees the client gone. The answers are the API's JSON
errors. Time spent in a TLS handshake is asyncio's to bound (60 s), before the connection counts here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import time
from dataclasses import dataclass
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from lookalike.api.errors import ApiError, error_body, new_request_id

log = logging.getLogger("lookalike.api")


@dataclass(frozen=True)
class Limits:
    header_seconds: float
    body_seconds: float
    max_connections: int
    slow_body_rate: float = 0.0  # bytes a second; 0: a body is never too slow to keep its connection


class GuardedH11Protocol(H11Protocol):
    """One connection; `limits` is set on a subclass by `protocol_with`."""

    limits: ClassVar[Limits]
    logged_at: ClassVar[float] = 0.0  # when the cap was last logged (at most one line a minute)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for = ""  # "headers" or "body" while a deadline runs
        self._answered = False  # by this class, past h11: what the client still sends is thrown away
        self._idle_since: float | None = time.monotonic()  # waiting for a request's headers since
        self._body_since = 0.0  # while waiting for a body: since when, and how many bytes came since
        self._body_bytes = 0
        super().connection_made(transport)
        if self._over_the_cap() and not self._make_room():
            self._log_cap("refusing connections")
            self._answer_and_close(
                ApiError(
                    "ServiceUnavailable",
                    f"The request has failed due to a temporary failure of the server: it has "
                    f"{self.limits.max_connections} connections open, the most it takes; try again shortly",
                    503,
                )
            )
            return
        self._start("headers", self.limits.header_seconds)

    def _over_the_cap(self) -> bool:
        """Whether more connections are open than the cap, not counting those already answered (closing)."""
        most = self.limits.max_connections
        return len(self.connections) > most and sum(1 for c in self._others() if not c._answered) + 1 > most

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request's headers, if one has; else the one
        whose body arrives slowest, if it is too slow."""
        others = [c for c in self._others() if not c._answered]
        waiting = [c for c in others if c._idle_since is not None]
        if waiting:
            closing = min(waiting, key=lambda c: c._idle_since or 0.0)
            message = "the server needed its connection for another before its headers came"
        else:
            now = time.monotonic()
            rates = [(rate, c) for c in others if (rate := c._body_rate(now)) is not None]
            slow = [(rate, c) for rate, c in rates if rate < self.limits.slow_body_rate]
            if not slow:
                return False
            rate, closing = min(slow, key=lambda pair: pair[0])
            message = (
                f"its body came at {rate:.0f} bytes a second, too slow to keep a connection the server "
                "needed for another"
            )
        self._log_cap("closing the connections that have waited longest for a request")
        closing._answer_and_close(
            ApiError("RequestTimeout", f"The request timed out: {message}", 408), linger=False
        )
        return True

    def _body_rate(self, now: float) -> float | None:
        """The bytes a second of the body being received, once it has been received for `SLOW_BODY_GRACE`."""
        if self._waiting_for != "body" or now - self._body_since < SLOW_BODY_GRACE:
            return None
        return self._body_bytes / (now - self._body_since)

    def data_received(self, data: bytes) -> None:
        if self._answered:
            return
        if self._waiting_for == "body":
            self._body_bytes += len(data)
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A request h11 cannot parse (or headers past its size limit): the API's JSON, not plain text."""
        self._answer_and_close(ApiError("BadRequest", f"The request is not valid HTTP/1.1: {msg}"))

    def _others(self) -> list[GuardedH11Protocol]:
        """The server's other connections."""
        return [c for c in self.connections if isinstance(c, GuardedH11Protocol) and c is not self]

    def _follow(self) -> None:
        """Run the deadline that fits where the request being received stands."""
        if self._answered:
            return
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
        if state is h11.SEND_BODY:
            if self._waiting_for != "body":
                self._start("body", self.limits.body_seconds)
                self._body_since, self._body_bytes = time.monotonic(), 0
        elif state is h11.IDLE:
            # Between requests uvicorn's keep-alive timer watches the idle connection; once bytes of the
            # next request are in, its headers have a deadline.
            if not self._waiting_for and self.conn.trailing_data[0]:
                self._start("headers", self.limits.header_seconds)
        else:  # the whole request is in (or the connection is ending): nothing more to wait for
            self._stop()

    def _start(self, waiting_for: str, seconds: float) -> None:
        self._stop()
        self._waiting_for = waiting_for
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _stop(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._waiting_for = None, ""

    def _expire(self) -> None:
        part = self._waiting_for
        seconds = self.limits.header_seconds if part == "headers" else self.limits.body_seconds
        self._deadline, self._waiting_for = None, ""
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self.transport.close()  # too late for a 408: the answer began
            return
        message = f"The request timed out: its {part} did not arrive within {seconds:g} s"
        self._answer_and_close(ApiError("RequestTimeout", message, 408))

    def _answer_and_close(self, error: ApiError, linger: bool = True) -> None:
        """Answer past h11 (whatever state it is in) and end the connection. Closing at once would lose the
        answer if the request is still coming in (unread bytes make the kernel reset the connection), so the
        sending side is closed, what comes in is thrown away, and the connection is closed when the client
        closes it, or `LINGER_SECONDS` later; unless not to `linger`."""
        if self.transport.is_closing() or self._answered:
            return
        self._stop()
        self._answered = True
        body = json.dumps(error_body(error, new_request_id(), "")).encode()
        head = (
            f"HTTP/1.1 {error.status} {_REASONS[error.status]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        if linger and self.transport.can_write_eof():  # plain TCP; TLS cannot close one side only
            self.transport.write_eof()
            self._deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def _log_cap(self, doing: str) -> None:
        now = time.monotonic()
        if now - GuardedH11Protocol.logged_at >= 60:
            GuardedH11Protocol.logged_at = now
            log.warning(
                "%s: %d are open, the most --max-connections allows", doing, self.limits.max_connections
            )


LINGER_SECONDS = 2.0
SLOW_BODY_GRACE = 1.0  # seconds a body is given before its rate is judged
_REASONS = {400: "Bad Request", 408: "Request Timeout", 503: "Service Unavailable"}


def protocol_with(limits: Limits) -> type[GuardedH11Protocol]:
    """The protocol class to give uvicorn (`http=`), with these limits."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})


def raise_file_limit(connections: int, spare: int = 256) -> None:
    """Let the process open a file for each connection and `spare` more (data, models, logs), as far as the
    system's hard limit allows: the soft limit is often 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + spare
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        log.warning(
            "--max-connections %d needs %d open files; the system allows %d", connections, wanted, hard
        )
        wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
