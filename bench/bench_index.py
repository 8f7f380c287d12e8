"""What an index build in the background costs a store serving a million images.

    python bench/bench_index.py [--data ~/.cache/lookalike-bench/perf-1m] [--images 1000000] [--new 10000]

On a copy of the harness's data directory (bench/bench_perf.py builds it; the copy shares the original
vectors by hard link), writes `--new` more images (INDEX_AFTER starts a build), then builds while one thread
keeps writing an image every 20 ms and another keeps searching. Prints how long the build took and the
longest a write and a search had to wait, beside their medians.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perf_fixture import INSTANCE, copies, ensure_fixture, records
from lookalike.store.qdrant_edge import QdrantEdgeStore, layout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache/lookalike-bench/perf-1m")
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    bases, _ = ensure_fixture(args.data, args.images)
    copy = args.data.parent / f"{args.data.name}-index-bench"
    shutil.rmtree(copy, ignore_errors=True)
    layout.copy_shard(args.data / "store", copy)
    store = QdrantEdgeStore(copy, index_after=None)
    try:
        start = args.images
        which, vectors = copies(bases, start, start + args.new + 2000)
        new = records(bases, start, which, vectors)
        for at in range(0, args.new, 1000):
            store.upsert(INSTANCE, new[at : at + 1000])
        waits: dict[str, list[float]] = {"write": [], "search": []}
        done = threading.Event()

        def timed(kind: str, call) -> None:
            started = time.perf_counter()
            call()
            waits[kind].append((time.perf_counter() - started) * 1000)

        def writer() -> None:
            for record in new[args.new :]:
                if done.is_set():
                    return
                timed("write", lambda r=record: store.upsert(INSTANCE, [r]))
                time.sleep(0.02)

        def searcher() -> None:
            for vector in itertools.cycle(vectors):
                if done.is_set():
                    return
                timed("search", lambda v=vector: store.search(INSTANCE, v, limit=10))

        threads = [threading.Thread(target=writer), threading.Thread(target=searcher)]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        store.build_index(INSTANCE)
        took = time.perf_counter() - started
        done.set()
        for thread in threads:
            thread.join()
    finally:
        store.close()
        shutil.rmtree(copy, ignore_errors=True)
    print(f"index build of {args.new:,} new images beside {args.images:,}: {took:.0f} s")
    for kind, ms in waits.items():
        median, longest = statistics.median(ms), max(ms)
        print(f"  {kind}s during it: {len(ms)}, median {median:.1f} ms, longest {longest:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
