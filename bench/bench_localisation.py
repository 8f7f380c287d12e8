"""Where to look: do the service's subjects box the product in a shopper's photo?

    python bench/bench_localisation.py [--split dev|heldout] [--seeds 11 12 13] [--per-object 2]

On the quality harness's scene and viewpoint queries (bench/quality/, the same pictures `bench_quality.py`
searches), each way of finding subjects gives its boxes, in this process:

- activations + colour: `Vision.locate` without the detector (the finder before issue 12);
- detector alone: the detector's objects, best first (`Detector.detect`);
- both: the subjects a search may try, as `Sight.further` lists them: the two cues taking turns, the
  activations' first (`Vision.with_objects`, `detector.alongside`).

Reported per object size, scene source and kind of object, with the mean over seeds and the worst seed:
the share of queries with a box of IoU >= 0.5 with the object's true box first, among the first 3, and
among all subjects (at most 1 + MAX_OTHERS: what the service may search), the mean IoU of the first box,
and the CPU time per picture of finding them (the process's, every thread; decoding excluded). A plain
background takes the colour path in both `Vision` rows, whatever the detector says.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality.dataset import build
from bench.quality.fetch import fetch
from bench.quality.objects import SPLITS
from bench.quality.queries import Query, size_bin
from lookalike.domain.image import Box
from lookalike.vision.decode import Reduced, decode_reduced
from lookalike.vision.detector import Detector
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Vision

HIT = 0.5  # IoU with the true box that counts as finding the object
Finder = Callable[[Reduced], list[Box]]


def finders() -> dict[str, Finder]:
    embedder, detector = Embedder(), Detector()
    before, after = Vision(embedder), Vision(embedder, detector=detector)
    return {
        "activations + colour": lambda picture: list(before.locate(picture).subjects),
        "detector alone": lambda picture: [found.box for found in detector.detect(picture.image)],
        "both (the service)": lambda picture: list(
            after.with_objects(picture, after.locate(picture)).subjects
        ),
    }


def measure(queries: dict[int, list[Query]], find: Finder) -> list[dict]:
    rows = []
    for seed, made in queries.items():
        for query in made:
            if query.kind == "duplicate":
                continue
            picture = decode_reduced(query.data)
            started = time.process_time()
            boxes = find(picture)
            cpu_ms = (time.process_time() - started) * 1000
            ious = [box.iou(query.box) for box in boxes] or [0.0]
            objects = "objects: furniture" if query.target.startswith("furniture/") else "objects: stamps"
            groups = ("all", f"size {size_bin(query.share)}", f"scenes: {query.source}", objects, query.kind)
            rows.append(
                {
                    "seed": seed,
                    "groups": groups,
                    "first": ious[0] >= HIT,
                    "first 3": max(ious[:3]) >= HIT,
                    "any": max(ious) >= HIT,
                    "IoU": ious[0],
                    "cpu_ms": cpu_ms,
                }
            )
    return rows


def table(name: str, rows: list[dict]) -> str:
    keys = ("first", "first 3", "any", "IoU")
    lines = [
        f"\n{name}: a box of IoU >= {HIT}; the first box's IoU (mean over seeds, the worst in brackets)\n",
        "| queries | per seed | " + " | ".join(keys) + " |",
        "|---|---|" + "---|" * len(keys),
    ]
    grouped: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for group in row["groups"]:
            grouped[group][row["seed"]].append(row)
    for group in sorted(grouped, key=lambda g: (g != "all", g)):
        per_seed = grouped[group]
        cells = []
        for key in keys:
            means = [statistics.mean(float(row[key]) for row in seed_rows) for seed_rows in per_seed.values()]
            cells.append(f"{statistics.mean(means):.3f} ({min(means):.3f})")
        count = round(statistics.mean(len(seed_rows) for seed_rows in per_seed.values()))
        lines.append(f"| {group} | {count} | " + " | ".join(cells) + " |")
    cpu = [row["cpu_ms"] for row in rows]
    lines.append(
        f"\nCPU per picture: mean {statistics.mean(cpu):.1f} ms, median {statistics.median(cpu):.1f} ms"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--per-object", type=int, default=2, help="queries of each object per seed")
    args = parser.parse_args()

    data = build(fetch(), args.split, args.seeds, args.per_object, duplicates=0)
    print(f"{args.split} split, seeds {args.seeds}: {sum(map(len, data.queries.values()))} queries")
    for name, find in finders().items():
        print(table(name, measure(data.queries, find)), flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average {load} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
