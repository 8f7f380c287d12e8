"""Adds per second and search latency through HTTP with the official SDK, over a few hundred real photos.

    python bench/bench_http.py [--photos 300] [--queries 200] [--clients 1 4] [--store milvus|milvus://...]
        [--setting NAME=VALUE ...]

Starts a real server on a loopback port with a fresh data directory (embedded engine, or with --store the
Milvus given, or a standalone one started with its default settings: see bench/milvus.py), fills one
instance per client count through AddImage, then runs SearchImageByPic with recompressed copies of catalog
photos. Prints a table and writes bench/out/bench_http.json (bench_http-milvus.json with --store).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, found, make_client, search_pic
from tests.acceptance.server import ServerProcess

from bench.milvus import milvus
from bench.photos import photo_set, query_copy


def run_parallel(clients: int, jobs: list, endpoint: str, work) -> tuple[float, list[float]]:
    """Run `work(client, job)` over jobs with `clients` threads; wall seconds and per-call latencies (ms)."""
    sdk = [make_client(endpoint) for _ in range(clients)]

    def one(index_job):
        index, job = index_job
        started = time.perf_counter()
        work(sdk[index % clients], job)
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, enumerate(jobs)))
    return time.perf_counter() - started, latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--store", help="milvus (start a standalone Milvus) or a milvus:// URI")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE", help="of the Milvus started"
    )
    args = parser.parse_args()

    photos = photo_set(args.photos)
    queries = [(i % len(photos), query_copy(photos[i % len(photos)], seed=i)) for i in range(args.queries)]
    mean_kb = statistics.mean(len(p) for p in photos) / 1024
    rows = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        extra: tuple[str, ...] = ()
        if args.store:
            settings = dict(setting.split("=", 1) for setting in args.setting)
            uri, _ = stack.enter_context(milvus(None if args.store == "milvus" else args.store, settings))
            extra = ("--store", uri)
        server = ServerProcess(Path(tmp) / "data", extra_args=extra).start()
        try:
            for clients in args.clients:
                instance = create_instance(server.data_dir)
                jobs = list(enumerate(photos))
                wall, lat = run_parallel(
                    clients,
                    jobs,
                    server.endpoint,
                    lambda c, job, inst=instance: add(c, inst, f"p{job[0]}", "a.jpg", job[1]),
                )
                rows.append(
                    ("AddImage", clients, len(jobs) / wall, percentile(lat, 50), percentile(lat, 99), None)
                )
                hits = []

                def search(c, job, inst=instance, hits=hits):
                    target, picture = job
                    hits.append(found(search_pic(c, inst, picture, num=5))[0][0] == f"p{target}")

                wall, lat = run_parallel(clients, queries, server.endpoint, search)
                recall = sum(hits) / len(hits)
                rows.append(
                    (
                        "SearchImageByPic",
                        clients,
                        len(queries) / wall,
                        percentile(lat, 50),
                        percentile(lat, 99),
                        recall,
                    )
                )
        finally:
            server.stop()

    print(
        f"{len(photos)} real photos (~800 px JPEG, mean {mean_kb:.0f} KB), "
        f"{args.queries} queries, {'Milvus' if args.store else 'embedded engine'}"
    )
    print(f"{'action':18} {'clients':>7} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'top-1':>6}")
    for action, clients, rate, p50, p99, recall in rows:
        top1 = f"{recall:.2f}" if recall is not None else ""
        print(f"{action:18} {clients:>7} {rate:>8.1f} {p50:>8.1f} {p99:>8.1f} {top1:>6}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    keys = ("action", "clients", "per_second", "p50_ms", "p99_ms", "top1")
    (out / ("bench_http-milvus.json" if args.store else "bench_http.json")).write_text(
        json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
