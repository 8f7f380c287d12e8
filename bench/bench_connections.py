"""Thousands of half-sent requests against a real server: are they dropped, and does it go on serving?

    nice -n 10 python bench/bench_connections.py [--connections 3000] [--body]

Opens the connections as fast as it can, each sending the start of a request and then nothing more (with
--body: whole headers and the start of a body), while one client sends a health check every half second.
Counts how the server answers each (408 after its time limit, 503 past its connection cap, or a close),
how long it holds them, how many health checks were answered and how slowly, and the server's memory.
Writes bench/out/bench_connections.json.
"""

from __future__ import annotations

import argparse
import resource
import selectors
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.server import ServerProcess

from bench.drill import write_result

HEADERS_CUT = b"POST / HTTP/1.1\r\nHost: h\r\nx-acs-action: SearchImageByPic\r\n"
BODY_CUT = (
    HEADERS_CUT + b"content-type: application/x-www-form-urlencoded\r\ncontent-length: 100000\r\n\r\nPic"
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--body", action="store_true", help="send whole headers and a part of the body")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 512), hard))
    sent = BODY_CUT if args.body else HEADERS_CUT

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        assert server.process is not None
        pid, host, port = server.process.pid, *server.endpoint.split(":")
        rss_before = rss_mb(pid)
        checks: list[float | None] = []
        done = threading.Event()

        def health_checks() -> None:  # a well-behaved client meanwhile
            while not done.is_set():
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(f"http://{server.endpoint}/healthz", timeout=30):
                        checks.append(time.monotonic() - started)
                except OSError:
                    checks.append(None)
                done.wait(0.5)

        checker = threading.Thread(target=health_checks)
        checker.start()
        selector, opened, started = selectors.DefaultSelector(), {}, time.monotonic()
        failed_to_open = 0
        for _ in range(args.connections):
            try:
                sock = socket.create_connection((host, int(port)), timeout=10)
                sock.sendall(sent)
            except OSError:
                failed_to_open += 1
                continue
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            opened[sock] = b""
        opened_in = time.monotonic() - started
        rss_peak, outcomes, closed_at = rss_mb(pid), Counter(), []
        while opened and time.monotonic() - started < 600:
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if chunk:
                    opened[sock] += chunk
                    continue
                answer = opened.pop(sock)
                outcomes[
                    answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "closed"
                ] += 1
                closed_at.append(time.monotonic() - started)
                selector.unregister(sock)
                sock.close()
            rss_peak = max(rss_peak, rss_mb(pid))
        still_open = len(opened)
        for sock in opened:
            sock.close()
        done.set()
        checker.join()
        rss_after = rss_mb(pid)
        server.stop()

    answered = [seconds for seconds in checks if seconds is not None]
    result = {
        "connections": args.connections,
        "sent": "headers and part of a body" if args.body else "part of the headers",
        "failed_to_open": failed_to_open,
        "opened_in_s": round(opened_in, 1),
        "answers": dict(outcomes),
        "all_closed_after_s": round(max(closed_at), 1) if closed_at else None,
        "still_open_after_600_s": still_open,
        "health_checks": len(checks),
        "health_checks_answered": len(answered),
        "health_check_max_s": round(max(answered), 2) if answered else None,
        "server_rss_mb": {"before": round(rss_before), "peak": round(rss_peak), "after": round(rss_after)},
    }
    path = write_result("bench_connections" + ("_body" if args.body else ""), result)
    for name, value in result.items():
        print(f"{name}: {value}")
    print(f"wrote {path}")
    return 0 if not still_open and len(answered) == len(checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
