"""The global descriptor alone: does the true box of a product, cut as the service cuts it, find its catalog
shot first, for each pooling of the model's feature map (vision/pooling.py)?

    python bench/bench_descriptor.py [--split dev|heldout] [--seeds 11 12 13]

No localisation noise and no server: the quality harness's catalog and distractors (bench/quality/) are
described as an add stores them (the first subject), each query's true box as a search with that Region
would, by the real Vision over the packaged model; the ranking is exact cosine over the whole gallery.
Reports R@1 and R@5 per kind of query (stamps and rendered furniture in scenes, the other side of a rendered
model, near-duplicates) and per object size, the mean and the worst over seeds, and the CPU of one
description per pooling. Tune on the development split only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality.dataset import build
from bench.quality.fetch import fetch
from bench.quality.objects import SPLITS
from bench.quality.queries import size_bin
from lookalike.vision.decode import decode_reduced
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Vision
from lookalike.vision.pooling import POOLINGS


def group_of(kind: str, target: str) -> str:
    if kind != "scene":
        return kind
    return "furniture in scenes" if target.startswith("furniture/") else "stamps in scenes"


def describe_all(vision: Vision, pictures: list[bytes], boxes: list | None) -> tuple[np.ndarray, float]:
    """Vectors of each picture's true box (or first subject, without boxes), and the CPU ms per vector."""
    vectors, cpu = [], 0.0
    for i, data in enumerate(pictures):
        picture = decode_reduced(data)
        region = (boxes[i],) if boxes else vision.locate(picture, every_subject=False).subjects[:1]
        started = time.process_time()
        (view,) = vision.describe(picture, region)
        cpu += time.process_time() - started
        vectors.append(view.vector)
    return np.stack(vectors), cpu / len(pictures) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    args = parser.parse_args()
    data = build(fetch(), args.split, args.seeds)
    names = [*data.catalog, *data.distractors]
    pictures = [*data.catalog.values(), *data.distractors.values()]
    where = {name: i for i, name in enumerate(names)}
    print(f"{args.split} split: {len(names)} pictures in the gallery, seeds {args.seeds}")

    table: dict[str, dict[str, dict[int, list[int]]]] = {}  # pooling -> group -> seed -> ranks
    cpu = {}
    for pooling in POOLINGS:
        vision = Vision(Embedder(pooling=pooling))
        gallery, cpu[pooling] = describe_all(vision, pictures, None)
        ranks: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for seed, queries in data.queries.items():
            found, _ = describe_all(vision, [q.data for q in queries], [q.box for q in queries])
            scores = found @ gallery.T
            for query, row in zip(queries, scores, strict=True):
                rank = int((row > row[where[query.target]]).sum())
                ranks[group_of(query.kind, query.target)][seed].append(rank)
                if query.kind != "duplicate":
                    ranks[f"size {size_bin(query.share)}"][seed].append(rank)
                    ranks["all scenes"][seed].append(rank)
        table[pooling] = ranks

    print("\nR@1 and R@5 with the true box, the mean over seeds (the worst seed)\n")
    print("| queries | " + " | ".join(f"{p} R@1 | {p} R@5" for p in POOLINGS) + " |")
    print("|---|" + "---|---|" * len(POOLINGS))
    for group in sorted(table[POOLINGS[0]]):
        cells = []
        for pooling in POOLINGS:
            for k in (1, 5):
                rates = [np.mean(np.array(r) < k) for r in table[pooling][group].values()]
                cells.append(f"{statistics.mean(rates):.3f} ({min(rates):.3f})")
        print(f"| {group} | " + " | ".join(cells) + " |")
    print("\nCPU per description (ms, this process): " + ", ".join(f"{p} {cpu[p]:.1f}" for p in POOLINGS))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
