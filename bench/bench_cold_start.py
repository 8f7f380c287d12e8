"""Cold start and memory of `lookalike serve` on a million-image data directory, alone (bench_perf runs them
among everything else).

    python bench/bench_cold_start.py [--data ~/.cache/lookalike-bench/perf-1m] [--drop-caches] [--vector]

The data directory is bench_perf's (built by it). Prints, as JSON: the seconds from starting the server to
its first answered SearchImageByPic; the server's RSS after a few searches, split into anonymous and
file-backed memory; the RSS of an empty server and the linear projection to ten million images (as in
bench_perf). `--drop-caches` empties the kernel's page cache before each part (root only: it slows every
process on the machine for a while), so that each reads everything from disk; without it, the page cache
holds what the last process left there. `--vector` also runs bench_perf's vector search part first (p50
and recall@10).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.sdk import make_client, search_pic
from tests.acceptance.server import ServerProcess

from bench.bench_perf import INSTANCE, QUERIES, cold_start, empty_server_rss, vector_search
from bench.perf_fixture import ensure_fixture
from bench.photos import query_copy


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process from /proc/PID/smaps_rollup: anonymous (heap) and file-backed (maps)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {"rss": fields["Rss"], "anon": fields["Anonymous"], "file": fields["Rss"] - fields["Anonymous"]}


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def start_and_search(data: Path, pictures: list[bytes]) -> dict:
    server = ServerProcess(data)
    try:
        out: dict = {"cold_start_s": cold_start(server, pictures[0])}
        client = make_client(server.endpoint)
        for picture in pictures[1:]:
            search_pic(client, INSTANCE, picture)
        assert server.process is not None
        out["memory_mb"] = memory_mb(server.process.pid)
    finally:
        server.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache/lookalike-bench/perf-1m")
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--vector", action="store_true")
    args = parser.parse_args()
    bases, _ = ensure_fixture(args.data, args.images)
    out: dict = {"images": args.images, "load": os.getloadavg()}
    out["page_cache"] = "dropped before each part" if args.drop_caches else "as left"
    if args.vector:
        if args.drop_caches:
            drop_caches()
        out["vector"] = vector_search(args.data, bases, args.images)
    pictures = [query_copy(bases.photos[i % len(bases.photos)], seed=i) for i in range(QUERIES // 4)]
    if args.drop_caches:
        drop_caches()
    out.update(start_and_search(args.data, pictures))
    empty = empty_server_rss(bases)
    grown = out["memory_mb"]["rss"] - empty
    out["empty_rss_mb"] = empty
    out["projected_10m_gb"] = (empty + grown * 10_000_000 / args.images) / 1024
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
