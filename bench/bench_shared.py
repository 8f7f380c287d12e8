"""The cost of the state every server process on a data directory shares: one call of the rate limiter and
one of the nonce memory (each a SQLite transaction in the data directory), as a request makes them.

    python bench/bench_shared.py [--calls 2000] [--processes 1 4] [--dir DIR]

For each journal (the rollback journal that processes on several machines can share, as with Milvus; the
write-ahead log of one machine, as with the embedded engine) and number of processes, that many processes
call `SharedRateLimiter.admit` (one bucket, a limit it never reaches) and `SharedNonceCache.first_use` (a new
nonce each time) together, on files in DIR (default: a temporary directory under bench/out, on the disk a
data directory would be on). Prints microseconds per request (the pair of calls) at the median and p99 in
each process, and requests per second of all processes together.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.processes import in_processes

from lookalike.api.replay import SharedNonceCache
from lookalike.service.limits import SharedRateLimiter


def requests_in_a_process(folder: Path, wal: bool, calls: int) -> tuple[list[float], float, float]:
    """Microseconds of each request's two calls, and when the first began and the last ended."""
    limiter = SharedRateLimiter(folder / "limits.sqlite3", wal=wal)
    nonces = SharedNonceCache(folder / "nonces.sqlite3", wal=wal)
    took, began = [], time.time()
    for _ in range(calls):
        started = time.perf_counter()
        limiter.admit("shop/search", 1_000_000)
        assert nonces.first_use("key", uuid.uuid4().hex, time.time() + 900)
        took.append((time.perf_counter() - started) * 1e6)
    return took, began, time.time()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"{'journal':8} {'processes':>9} {'p50 us':>8} {'p99 us':>8} {'requests/s':>11}")
    for journal, wal in (("rollback", False), ("WAL", True)):
        for processes in args.processes:
            with tempfile.TemporaryDirectory(dir=args.dir) as folder:
                runs = in_processes(requests_in_a_process, [(Path(folder), wal, args.calls)] * processes)
            every = [t for took, _, _ in runs for t in took]
            wall = max(end for _, _, end in runs) - min(began for _, began, _ in runs)
            p50, p99 = statistics.median(every), statistics.quantiles(every, n=100)[98]
            print(f"{journal:8} {processes:>9} {p50:>8.0f} {p99:>8.0f} {len(every) / wall:>11.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
