"""The embedded engine against Milvus standalone, on this machine, through the store protocol: add rate,
search latency (plain and filtered) and recall against exact search, what Strong consistency costs, and
Milvus's memory per image.

    sh tests/private_network.sh .venv/bin/python bench/bench_stores.py [--images 30000] [--queries 200]
        [--milvus milvus://host:port]

Vectors: the real embeddings of 300 photos (bench/photos.py, the packaged model) stand for 300 products;
each catalog image is one of them with multiplicative noise (cosine ~0.9 to it), so the catalog has clusters
of near-duplicates as shops do. Queries are fresh noisy copies. Attributes are random: 14 categories,
int_attr 0-99, str_attr one of 100 words. Milvus runs with its default settings (unless --milvus), and is
measured twice: right after the adds (newest rows in growing segments, searched through its interim index)
and after its segments are sealed and HNSW-indexed. Writes bench/out/bench_stores.json.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymilvus import MilvusClient

from bench.milvus import milvus, resident_bytes
from bench.photos import photo_set
from lookalike.domain.filters import And, Compare, Filter, matches
from lookalike.domain.image import Attributes, Box, Image
from lookalike.store import open_store
from lookalike.store.base import Store
from lookalike.store.milvus import EF_SEARCH, MilvusAddress, milvus_name
from lookalike.vision.categories import CATEGORIES
from lookalike.vision.embedder import Embedder

COLLECTION = "bench"
SINGLE_ADDS = 300  # one record per call, as AddImage does; the rest go in batches, as an import does
BATCH = 256
K = 10
FILTERS: dict[str, Filter | None] = {
    "none": None,
    "category (~7%)": Compare("category_id", "=", 3),
    "int_attr < 50 (~50%)": Compare("int_attr", "<", 50),
    "str_attr = word (~1%)": Compare("str_attr", "=", "w7"),
    "category and int_attr < 10 (~0.7%)": And((Compare("category_id", "=", 3), Compare("int_attr", "<", 10))),
}


def catalog(count: int, queries: int, seed: int = 1) -> tuple[list[Image], np.ndarray]:
    photos = [PILImage.open(io.BytesIO(jpeg)).convert("RGB") for jpeg in photo_set(300)]
    bases = Embedder().embed(photos)
    rng = np.random.default_rng(seed)

    def noisy(n: int) -> np.ndarray:
        v = bases[rng.integers(len(bases), size=n)] * np.exp(rng.normal(0, 0.45, (n, bases.shape[1])))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    vectors = noisy(count)
    categories = [c for c in CATEGORIES if c != 88888888]
    records = [
        Image(
            product_id=f"p{i // 3}",
            pic_name=f"{i % 3}.jpg",
            category_id=int(categories[rng.integers(len(categories))]),
            region=Box(0, 800, 0, 600),
            attributes=Attributes(int_attr=int(rng.integers(100)), str_attr=f"w{rng.integers(100)}"),
            vector=vectors[i],
        )
        for i in range(count)
    ]
    return records, noisy(queries)


def timed(calls: list[Callable[[], object]]) -> tuple[float, list[float], list]:
    """Wall seconds, the latency of each call in ms, and what each returned."""
    latencies, results = [], []
    started = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        results.append(call())
        latencies.append((time.perf_counter() - t) * 1000)
    return time.perf_counter() - started, latencies, results


def p(latencies: list[float], q: float) -> float:
    return float(np.percentile(latencies, q))


def add_all(store: Store, records: list[Image]) -> dict:
    single, latencies, _ = timed([lambda r=r: store.upsert(COLLECTION, [r]) for r in records[:SINGLE_ADDS]])
    rest = records[SINGLE_ADDS:]
    batched, _, _ = timed(
        [lambda s=s: store.upsert(COLLECTION, rest[s : s + BATCH]) for s in range(0, len(rest), BATCH)]
    )
    return {
        "single_per_s": SINGLE_ADDS / single,
        "single_p50_ms": p(latencies, 50),
        "single_p99_ms": p(latencies, 99),
        "batched_per_s": len(rest) / batched,
    }


def searches(store: Store, records: list[Image], queries: np.ndarray) -> dict:
    matrix = np.stack([r.vector for r in records])
    out = {}
    for label, filter in FILTERS.items():
        allowed = np.array([filter is None or matches(filter, r) for r in records])
        store.search(COLLECTION, queries[0], limit=K, filter=filter)  # warm-up, not timed
        _, latencies, found = timed(
            [lambda q=q, f=filter: store.search(COLLECTION, q, limit=K, filter=f) for q in queries]
        )
        recalls = []
        for query, hits in zip(queries, found, strict=True):
            scores = np.where(allowed, matrix @ query, -np.inf)
            best = np.argsort(-scores)[: min(K, int(allowed.sum()))]
            exact = {records[i].key for i in best}
            recalls.append(len(exact & {h.image.key for h in hits}) / len(exact) if exact else 1.0)
        recall = float(np.mean(recalls))
        out[label] = {"p50_ms": p(latencies, 50), "p99_ms": p(latencies, 99), "recall": recall}
    return out


def seal_and_index(uri: str) -> float:
    """Have Milvus seal the collection's segments and build their HNSW index; seconds it took."""
    client = MilvusClient(**MilvusAddress.parse(uri).client_options())
    started = time.perf_counter()
    client.flush(milvus_name(COLLECTION))
    while True:
        index = client.describe_index(milvus_name(COLLECTION), "vector")
        if index.get("pending_index_rows", 0) == 0 and index["indexed_rows"] >= index["total_rows"]:
            break
        time.sleep(1)
    took = time.perf_counter() - started
    time.sleep(15)  # the query node swaps the indexed segments in
    client.close()
    return took


def consistency(uri: str, queries: np.ndarray) -> dict:
    """Search latency at each consistency level Milvus offers (Lookalike always uses Strong)."""
    client = MilvusClient(**MilvusAddress.parse(uri).client_options())
    name, params = milvus_name(COLLECTION), {"metric_type": "COSINE", "params": {"ef": EF_SEARCH}}
    out = {}
    for level in ("Strong", "Session", "Bounded", "Eventually"):

        def search(query: np.ndarray, level: str = level) -> object:
            vectors = [query.tolist()]
            return client.search(name, vectors, limit=K, search_params=params, consistency_level=level)

        _, latencies, _ = timed([lambda q=q: search(q) for q in queries])
        out[level] = {"p50_ms": p(latencies, 50), "p99_ms": p(latencies, 99)}
    client.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--milvus", help="a Milvus of your own (default: start a standalone one)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the Milvus started, as an environment variable, e.g. PROXY_TIMETICKINTERVAL=20",
    )
    args = parser.parse_args()
    records, queries = catalog(args.images, args.queries)
    dim = len(records[0].vector)
    results: dict = {"images": args.images, "queries": args.queries, "dim": dim, "settings": args.setting}

    with tempfile.TemporaryDirectory(prefix="bench-stores-", dir=Path.cwd()) as tmp:  # on disk, not tmpfs
        store = open_store(None, Path(tmp))
        store.ensure_collection(COLLECTION, dim)
        results["embedded"] = {"add": add_all(store, records), "search": searches(store, records, queries)}
        store.close()

    settings = dict(setting.split("=", 1) for setting in args.setting)
    with milvus(args.milvus, settings) as (uri, server):
        database = f"bench{uuid.uuid4().hex[:8]}"
        MilvusClient(**MilvusAddress.parse(uri).client_options()).create_database(database)
        uri = urlsplit(uri)._replace(path=f"/{database}").geturl()
        store = open_store(uri, Path())
        store.ensure_collection(COLLECTION, dim)
        before = resident_bytes(server) if server else None
        milvus_results = {"add": add_all(store, records), "search_fresh": searches(store, records, queries)}
        milvus_results["seal_and_index_s"] = seal_and_index(uri)
        milvus_results["search_indexed"] = searches(store, records, queries)
        milvus_results["consistency"] = consistency(uri, queries)
        if server:
            milvus_results["bytes_per_image"] = (resident_bytes(server) - before) / args.images
        store.drop_collection(COLLECTION)
        store.close()
        results["milvus"] = milvus_results

    report(results)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_stores.json").write_text(json.dumps(results, indent=2))
    return 0


def report(r: dict) -> None:
    e, m = r["embedded"], r["milvus"]
    print(f"{r['images']} images of {r['dim']} dimensions, {r['queries']} queries, k={K}\n")
    print(f"{'adds':34} {'embedded':>12} {'Milvus':>12}")
    for label, key, form in [
        ("one per call, per s", "single_per_s", ".0f"),
        ("one per call, p50 ms", "single_p50_ms", ".1f"),
        ("one per call, p99 ms", "single_p99_ms", ".1f"),
        ("batches of 256, per s", "batched_per_s", ".0f"),
    ]:
        print(f"{label:34} {e['add'][key]:>12{form}} {m['add'][key]:>12{form}}")
    columns = ("embedded", "Milvus fresh", "Milvus indexed")
    print(f"\n{'search: p50 / p99 ms, recall@10':34}" + "".join(f"{c:>22}" for c in columns))
    for label in FILTERS:
        cells = [e["search"][label], m["search_fresh"][label], m["search_indexed"][label]]
        row = "".join(f"{c['p50_ms']:>8.1f} /{c['p99_ms']:>5.0f}  {c['recall']:.3f}" for c in cells)
        print(f"{label:34}{row}")
    print(f"\nMilvus seal + index: {m['seal_and_index_s']:.0f} s")
    levels = [f"{level} {c['p50_ms']:.1f} / {c['p99_ms']:.0f}" for level, c in m["consistency"].items()]
    print(f"Milvus search by consistency level, p50 / p99 ms: {', '.join(levels)}")
    if "bytes_per_image" in m:
        print(f"Milvus resident memory per image: {m['bytes_per_image'] / 1024:.1f} KiB")


if __name__ == "__main__":
    raise SystemExit(main())
