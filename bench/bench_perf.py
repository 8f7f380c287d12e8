"""Throughput, latency, memory and cold start at a million images, each figure beside its target.

    python bench/bench_perf.py [--data ~/.cache/lookalike-bench/perf-1m] [--images 1000000]

The data directory (one instance, `--images` images; see bench/perf_fixture.py for how they are derived
from real photos) is built on the first run (about 50 minutes on two cores) and reused after. Then:
1. vector search alone, in this process on the embedded engine: p50 of `Store.search` (limit 10) and
   recall@10 against an exact search in numpy, unfiltered and with filters keeping 1 % and 10 %;
2. `lookalike serve` on that directory: seconds until its first answered SearchImageByPic (cold start);
   SearchImageByPic through the official SDK over HTTP with 1, 4 and 16 clients (shoppers' copies of
   catalog photos, ~600 px JPEG); the server's RSS; AddImage with 1, 4 and 16 clients (~800 px JPEGs)
   into the same instance, deleted again after.
The memory projection to 10M is linear: the RSS of an empty server plus ten times what a million adds.
Prints the table and writes bench/out/bench_perf.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from darabonba.exceptions import UnretryableException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, delete, make_client, search_pic
from tests.acceptance.server import ServerProcess

from bench.bench_http import percentile, run_parallel
from bench.perf_fixture import INSTANCE, Bases, all_copies, copies, ensure_fixture
from bench.photos import photo_set, query_copy
from lookalike.domain.filters import Compare, Filter
from lookalike.store.qdrant_edge import QdrantEdgeStore

QUERIES = 200
K = 10
# name: (the filter, which stored images it keeps: a function of their numbers i, see perf_fixture)
SELECTIONS: dict[str, tuple[Filter | None, Callable[[np.ndarray], np.ndarray]]] = {
    "none": (None, lambda i: np.ones(len(i), dtype=bool)),
    "1 %": (Compare("int_attr", "=", 7), lambda i: i % 100 == 7),
    "10 %": (Compare("int_attr", "<", 10), lambda i: i % 100 < 10),
}


def exact_top(bases: Bases, count: int, queries: np.ndarray) -> dict[str, np.ndarray]:
    """Per selection, the numbers of the exact top K stored images of each query, by cosine (numpy)."""
    best = {
        name: (np.full((len(queries), K), -np.inf, np.float32), np.zeros((len(queries), K), np.int64))
        for name in SELECTIONS
    }
    for start, _, vectors in all_copies(bases, count):
        numbers = np.arange(start, start + len(vectors))
        all_scores = queries @ vectors.T
        for name, (_, keep) in SELECTIONS.items():
            kept = keep(numbers)
            scores = np.concatenate([best[name][0], all_scores[:, kept]], axis=1)
            kept_numbers = np.broadcast_to(numbers[kept], (len(queries), kept.sum()))
            ids = np.concatenate([best[name][1], kept_numbers], axis=1)
            order = np.argsort(-scores, axis=1)[:, :K]
            best[name] = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
    return {name: ids for name, (_, ids) in best.items()}


def vector_search(data: Path, bases: Bases, count: int) -> dict[str, dict[str, float]]:
    _, queries = copies(bases, 10**9, 10**9 + QUERIES)  # fresh copies, stored nowhere
    truth = exact_top(bases, count, queries)
    store = QdrantEdgeStore(data / "store", index_after=None)
    out = {}
    try:
        for name, (filter, _) in SELECTIONS.items():
            latencies, recalls = [], []
            for query, exact in zip(queries, truth[name], strict=True):
                started = time.perf_counter()
                hits = store.search(INSTANCE, query, limit=K, filter=filter)
                latencies.append((time.perf_counter() - started) * 1000)
                got = {int(h.image.product_id[1:]) for h in hits}
                recalls.append(len(got & set(exact.tolist())) / K)
            out[name] = {"p50_ms": statistics.median(latencies), "recall": statistics.mean(recalls)}
    finally:
        store.close()
    return out


def rss_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")}


def cold_start(server: ServerProcess, picture: bytes) -> float:
    """Seconds from starting `server` to its first answered SearchImageByPic (the caller stops it)."""
    started = time.perf_counter()
    server.start()
    client = make_client(server.endpoint)
    while True:  # the SDK gives up after 10 s; the server keeps opening the collection meanwhile
        try:
            search_pic(client, INSTANCE, picture)
            return time.perf_counter() - started
        except UnretryableException:
            continue


def http_part(data: Path, bases: Bases, count: int) -> dict:
    out: dict = {}
    pictures = [query_copy(bases.photos[i % len(bases.photos)], seed=i) for i in range(QUERIES)]
    server = ServerProcess(data)
    try:
        out["cold_start_s"] = cold_start(server, pictures[0])
        run_parallel(2, pictures[:20], server.endpoint, lambda c, p: search_pic(c, INSTANCE, p))  # warm
        out["search"] = {}
        for clients in (1, 4, 16):
            wall, lat = run_parallel(
                clients, pictures, server.endpoint, lambda c, p: search_pic(c, INSTANCE, p)
            )
            out["search"][clients] = {
                "qps": len(pictures) / wall,
                "p50_ms": percentile(lat, 50),
                "p99_ms": percentile(lat, 99),
            }
        assert server.process is not None
        out["rss_mb"] = rss_mb(server.process.pid)
        photos = photo_set(300, seed=99)
        out["add"] = {}
        for clients in (1, 4, 16):
            jobs = [(f"add{clients}-{i}", photo) for i, photo in enumerate(photos)]
            wall, lat = run_parallel(
                clients, jobs, server.endpoint, lambda c, job: add(c, INSTANCE, job[0], "0.jpg", job[1])
            )
            out["add"][clients] = {"per_s": len(jobs) / wall, "p50_ms": percentile(lat, 50)}
            run_parallel(4, jobs, server.endpoint, lambda c, job: delete(c, INSTANCE, product_id=job[0]))
    finally:
        server.stop()
    return out


def empty_server_rss(bases: Bases) -> float:
    """RSS of a server with the model loaded and one small instance searched: the part that does not grow."""
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            instance = create_instance(server.data_dir)
            client = make_client(server.endpoint)
            add(client, instance, "p", "0.jpg", bases.photos[0])
            for photo in bases.photos[:10]:
                search_pic(client, instance, photo)
            assert server.process is not None
            return rss_mb(server.process.pid)["VmRSS"]
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache/lookalike-bench/perf-1m")
    parser.add_argument("--images", type=int, default=1_000_000)
    args = parser.parse_args()
    bases, fixture = ensure_fixture(args.data, args.images)
    vector = vector_search(args.data, bases, args.images)
    print(json.dumps(vector), flush=True)
    http = http_part(args.data, bases, args.images)
    empty = empty_server_rss(bases)
    projected_gb = (empty + (http["rss_mb"]["VmRSS"] - empty) * 10_000_000 / args.images) / 1024
    result = {"images": args.images, "fixture": fixture, "vector": vector, **http}
    result["empty_rss_mb"], result["projected_10m_gb"] = empty, projected_gb

    millions = args.images / 1e6
    rows = []
    for clients, r in http["add"].items():
        rows.append((f"AddImage, {clients} clients", f"{r['per_s']:.1f} /s", "≥ 60 /s"))
    for clients, r in http["search"].items():
        rows.append(
            (
                f"SearchImageByPic, {clients} clients, {millions:g}M",
                f"{r['qps']:.1f} QPS, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms",
                "≥ 40 QPS, p50 ≤ 60 ms, p99 ≤ 150 ms",
            )
        )
    targets = {"none": "p50 ≤ 10 ms, recall ≥ 0.95", "1 %": "recall ≥ 0.99", "10 %": ""}
    for name, r in vector.items():
        label = "Vector search alone" if name == "none" else f"Vector search, filter keeping {name}"
        figure = f"p50 {r['p50_ms']:.1f} ms, recall@10 {r['recall']:.3f}"
        rows.append((f"{label}, {millions:g}M", figure, targets[name]))
    rss = http["rss_mb"]
    rows.append(
        (
            f"Server RSS at {millions:g}M (anon + file)",
            f"{rss['VmRSS'] / 1024:.2f} GB ({rss['RssAnon'] / 1024:.2f} + {rss['RssFile'] / 1024:.2f})",
            "",
        )
    )
    rows.append(("Server RSS projected to 10M", f"{projected_gb:.1f} GB", "≤ 12 GB"))
    rows.append((f"Cold start, {millions:g}M stored", f"{http['cold_start_s']:.1f} s", "≤ 5 s"))
    rows.append(
        (
            f"Building the {millions:g}M fixture (store, then index)",
            f"{fixture['fill_seconds']} s + {fixture['index_seconds']} s",
            "",
        )
    )
    cpus = len(os.sched_getaffinity(0))
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"{platform.processor() or platform.machine()}, {cpus} cores, {memory_gb:.0f} GB RAM")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':{width}} | measured | target |")
    for label, figure, target in rows:
        print(f"| {label:{width}} | {figure} | {target} |")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_perf.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
