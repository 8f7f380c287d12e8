"""A server's resident memory and peak, and requests sent all at once: what tests/acceptance/test_memory.py
and bench/bench_memory.py measure."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak since the last `reset_peak`) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> None:
    """VmHWM := VmRSS (Linux; a process of our own)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def at_once(count: int, call: Callable[[], T]) -> list[T]:
    """`call()` in `count` threads, each let go when all are ready; the results."""
    ready, results, lock = threading.Barrier(count), [], threading.Lock()

    def one() -> None:
        ready.wait()
        result = call()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
