"""What big pictures cost a server's memory: the table of docs/reliability.md ("Memory").

    python bench/bench_memory.py [--clients 1 16 40] [--kinds "PNG RGB" ...] [-- SERVE_ARGS...]

For each picture kind of tests/big_pictures.py (4096 x 4096, a few hundred bytes to a megabyte of file) and
each number of clients, a fresh `lookalike serve` (extra arguments after `--`, e.g. `--decode-memory 256`)
answers one small search first, so the model and the store are loaded; then that many clients send one
SearchImageByPic of the picture each, all at once (the official SDK, one thread each). Prints, per run, the
growth of the server's peak resident memory (VmHWM, reset after the first search) over its resident memory
before, its resident memory growth once all have been answered and it is idle again, the answers
(successes and error codes), and the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.memory import at_once, reset_peak, status_mb
from tests.acceptance.sdk import make_client, search_pic
from tests.acceptance.server import ServerProcess
from tests.big_pictures import KINDS, picture
from tests.conftest import jpeg, photo_image


def cpu_seconds(pid: int) -> float:
    utime, stime = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, quiet_seconds: float = 6.0, most_seconds: float = 300.0) -> None:
    """Wait until the server has used no CPU for `quiet_seconds`: a request whose client gave up (read
    timeout) is still being worked on, or waiting for the decode budget (5 s at most)."""
    deadline = time.monotonic() + most_seconds
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = cpu_seconds(pid)
        if now - last < 0.05:
            return
        last = now


def search(endpoint: str, instance: str, data: bytes) -> str:
    """One search by a client of its own: "ok" or what went wrong."""
    try:
        search_pic(make_client(endpoint), instance, data)
        return "ok"
    except Exception as error:  # the server's error code, or the client's own (its 10 s read timeout)
        if code := getattr(error, "code", None):
            return code
        return "client timeout" if "timed out" in str(error) else type(error).__name__


def run(kind: str, clients: int, serve_args: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        server = ServerProcess(Path(folder) / "data", extra_args=tuple(serve_args)).start()
        try:
            pid = server.process.pid
            instance = create_instance(server.data_dir)
            search_pic(make_client(server.endpoint), instance, jpeg(photo_image("chelsea")))
            reset_peak(pid)
            before, cpu = status_mb(pid), cpu_seconds(pid)
            data = picture(kind)
            outcomes = Counter(at_once(clients, lambda: search(server.endpoint, instance, data)))
            settle(pid)
            after = status_mb(pid)
            return {
                "peak": after["VmHWM"] - before["VmRSS"],
                "after": after["VmRSS"] - before["VmRSS"],
                "cpu_ms": (cpu_seconds(pid) - cpu) / clients * 1000,  # the idle second's few ticks too
                "outcomes": dict(outcomes),
            }
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 40])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("serve_args", nargs="*", help="after --: more `lookalike serve` arguments")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; serve {' '.join(args.serve_args) or '(defaults)'}")
    columns = f"{'picture':26} {'body':>9} {'clients':>7} {'peak +MB':>9} {'after +MB':>9} {'CPU ms':>7}"
    print(f"{columns}  answers")
    for kind in args.kinds:
        for clients in args.clients:
            out = run(kind, clients, args.serve_args)
            answers = ", ".join(f"{n} {code}" for code, n in sorted(out["outcomes"].items()))
            print(
                f"{kind:26} {len(picture(kind)):>9,} {clients:>7} {out['peak']:>9.0f} {out['after']:>9.0f} "
                f"{out['cpu_ms']:>7.0f}  {answers}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
