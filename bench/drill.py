"""What the reliability drills (bench_fuzz, bench_mixed, bench_kill, bench_connections) share: the server's
CPU time, and where they write their results."""

from __future__ import annotations

import json
import os
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (its threads and waited-for children included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def write_result(name: str, result: dict) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
