"""The million-image data directory the performance harness serves, built once and reused.

Describing a million photographs through the model takes hours on two cores, so the catalog is derived from
real embeddings instead: `BASES` real photos (bench/photos.py, ~800 px JPEGs) go through the real pipeline
(subject, vector, category) as AddImage would store them, and every stored image is a perturbed copy of one
of them: each value scaled by 1 + 0.35 N(0, 1), plus 0.25 times its dimension's spread times N(0, 1),
clipped at 0 (the model's features are non-negative and about half zero) and L2-normalised. A copy keeps a
cosine of about 0.93 to its photo, as a different shot of the same product would. The copies are a pure
function of the seed, so the harness recomputes them for exact answers instead of storing 5 GB twice.

Payloads: product `p<i>`, picture `0.jpg`, the category of its photo, int_attr = i % 100 (so `int_attr=7`
selects 1 % and `int_attr<10` 10 %), str_attr = `s<i % 10>`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.photos import photo_set
from lookalike.domain.image import Attributes, Box, Image
from lookalike.service.instances import Instances
from lookalike.service.models import NO_LIMITS
from lookalike.store.qdrant_edge import QdrantEdgeStore
from lookalike.vision.categories import OTHER
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Vision

BASES = 2000
INSTANCE = "perf"
CHUNK = 10_000  # copies generated (and stored) per step; each step has its own seed


@dataclass(frozen=True)
class Bases:
    photos: list[bytes]
    vectors: np.ndarray  # (BASES, dim), what AddImage stores for each photo
    categories: np.ndarray
    regions: np.ndarray  # (BASES, 4)

    @property
    def spread(self) -> np.ndarray:
        return self.vectors.std(axis=0)


def describe_bases(count: int = BASES) -> Bases:
    photos = photo_set(count, seed=11)
    vision = Vision(Embedder())
    vectors, categories, regions = [], [], []
    for photo in photos:
        analysis = vision.see(photo).first
        vectors.append(analysis.vector)
        scores = analysis.category_scores
        categories.append(max(scores, key=scores.get) if scores else OTHER)
        regions.append(analysis.region)
    return Bases(photos, np.stack(vectors).astype(np.float32), np.array(categories), np.array(regions))


def copies(bases: Bases, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Copies start..stop (a whole number of chunks): (which base each copies, their vectors)."""
    which, vectors = [], []
    spread = bases.spread
    for chunk in range(start // CHUNK, -(-stop // CHUNK)):
        rng = np.random.default_rng(chunk)
        n = min(CHUNK, stop - chunk * CHUNK)
        picked = rng.integers(0, len(bases.vectors), n)
        x = bases.vectors[picked]
        x = x * (1 + 0.35 * rng.standard_normal(x.shape, dtype=np.float32))
        x = np.maximum(x + 0.25 * spread * rng.standard_normal(x.shape, dtype=np.float32), 0)
        which.append(picked)
        vectors.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    return np.concatenate(which), np.concatenate(vectors).astype(np.float32)


def all_copies(bases: Bases, count: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    for start in range(0, count, CHUNK):
        yield start, *copies(bases, start, min(count, start + CHUNK))


def records(bases: Bases, start: int, which: np.ndarray, vectors: np.ndarray) -> list[Image]:
    out = []
    for offset, (base, vector) in enumerate(zip(which, vectors, strict=True)):
        i = start + offset
        x1, x2, y1, y2 = (int(v) for v in bases.regions[base])
        out.append(
            Image(
                product_id=f"p{i}",
                pic_name="0.jpg",
                category_id=int(bases.categories[base]),
                region=Box(x1, x2, y1, y2),
                attributes=Attributes(int_attr=i % 100, str_attr=f"s{i % 10}"),
                vector=vector,
            )
        )
    return out


def ensure_fixture(data: Path, count: int, log=print) -> tuple[Bases, dict]:
    """The data directory at `data` holding `count` images in instance INSTANCE (built if absent)."""
    bases_file, info_file = data / "bases.npz", data / "fixture.json"
    if bases_file.exists():
        saved = np.load(bases_file)
        photos = photo_set(len(saved["vectors"]), seed=11)
        bases = Bases(photos, saved["vectors"], saved["categories"], saved["regions"])
    else:
        started = time.perf_counter()
        bases = describe_bases()
        data.mkdir(parents=True, exist_ok=True)
        np.savez(bases_file, vectors=bases.vectors, categories=bases.categories, regions=bases.regions)
        log(f"described {len(bases.vectors)} real photos in {time.perf_counter() - started:.0f} s")
    if info_file.exists():
        info = json.loads(info_file.read_text())
        if info["count"] == count:
            return bases, info
        raise SystemExit(f"{data} holds {info['count']} images, not {count}: remove it, or another --data")
    instances = Instances(data / "instances")
    instance = instances.create(INSTANCE, qps=NO_LIMITS)
    store = QdrantEdgeStore(data / "store", index_after=None)  # indexed once, below, timed
    try:
        store.ensure_collection(instance.collection, bases.vectors.shape[1])
        started = time.perf_counter()
        for start, which, vectors in all_copies(bases, count):
            batch = records(bases, start, which, vectors)
            for at in range(0, len(batch), 1000):
                store.upsert(instance.collection, batch[at : at + 1000])
            log(f"  stored {start + len(batch):,} images")
        store.flush()
        fill_s = time.perf_counter() - started
        log(f"stored {count:,} images in {fill_s:.0f} s; indexing (HNSW + quantisation, child process)")
        started = time.perf_counter()
        store.build_index(instance.collection)
        index_s = time.perf_counter() - started
        log(f"indexed in {index_s:.0f} s")
    finally:
        store.close()
    info = {"count": count, "fill_seconds": round(fill_s), "index_seconds": round(index_s)}
    info_file.write_text(json.dumps(info, indent=2) + "\n")
    return bases, info


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--images", type=int, default=1_000_000)
    args = parser.parse_args()
    ensure_fixture(args.data, args.images)
