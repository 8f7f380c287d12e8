"""Where a default search lost the product: the subjects it probed, what each found, and which it chose.

    python -m bench.quality.probes [--split dev|heldout] [--seeds 11 12 13] [--catalog-styles]

In-process only (the real ImageService over a real embedded store): the service's choice of subject
(service/categorize.py `best_subject`) is watched as it returns, changing nothing, and each scene and
other-side query searched as a client would (Crop and Region absent) is put in one of these places:

- first: the product is the first result;
- first five: second to fifth;
- a subject's nearest: the nearest stored image of a subject the search probed, which it did not choose;
- a subject's ten: among a probed subject's ten nearest, no subject's nearest;
- boxed, not near: some probed subject boxes the product (IoU >= 0.5), and none of the probes holds it:
  the descriptor put other stored images nearer;
- not boxed: no subject the search probed boxes the product.

A sure search probes its first subject alone. The counts are given by kind of query and size of object,
every seed together; each search's probes are written to bench/out/quality/SPLIT-probes.json, and a
picture of each miss with the subjects probed (orange) beside the true box (green) and the Region (red) to
bench/out/quality/SPLIT-probes/seedN/ (bench/quality/misses.py); with `--catalog-styles` (the catalog shot
eight ways, as bench_quality.py shoots it) to SPLIT-styled-probes.json and SPLIT-styled-probes/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.quality.dataset import Dataset, cached_build
from bench.quality.fetch import fetch
from bench.quality.misses import write_misses
from bench.quality.objects import SPLITS
from bench.quality.queries import SIZE_BINS, size_bin
from bench.quality.runners import InProcess, add_catalog
from lookalike.domain.image import Box
from lookalike.service import images
from lookalike.service.categorize import Choice

PLACES = ("first", "first five", "a subject's nearest", "a subject's ten", "boxed, not near", "not boxed")
BOXED = 0.5  # IoU with the object's true box at which a subject boxes it
OUT = Path(__file__).resolve().parents[1] / "out" / "quality"


@contextlib.contextmanager
def watched() -> Iterator[list[Choice]]:
    """Every choice of subject the service makes meanwhile, in order (the service's own, unchanged)."""
    choices: list[Choice] = []
    choose = images.best_subject

    def watching(*args: Any, **kwargs: Any) -> Choice:
        choice = choose(*args, **kwargs)
        choices.append(choice)
        return choice

    images.best_subject = watching  # the name the service calls
    try:
        yield choices
    finally:
        images.best_subject = choose


def probes_of(choice: Choice | None) -> list[dict]:
    """The subjects probed, the chosen first: each one's box and its nearest stored products with their
    cosines, the closest first."""
    if choice is None:  # a search that did not choose (a Region, Crop=false)
        return []
    chosen = [(choice.subject, choice.neighbours)]
    others = [(probe.view, probe.neighbours) for probe in (*choice.rivals, *choice.others)]
    return [
        {
            "region": list(view.region),
            "nearest": [[hit.image.product_id, round(hit.score, 4)] for hit in neighbours],
        }
        for view, neighbours in chosen + others
    ]


def place(target: str, products: list[str], probes: list[dict], box: Box) -> str:
    """Where the search put or lost the product (PLACES)."""
    if products[:1] == [target]:
        return "first"
    if target in products[1:5]:
        return "first five"
    nearest = [[product for product, _ in p["nearest"]] for p in probes]
    if any(found[:1] == [target] for found in nearest):
        return "a subject's nearest"
    if any(target in found for found in nearest):
        return "a subject's ten"
    if any(Box(*p["region"]).iou(box) >= BOXED for p in probes):
        return "boxed, not near"
    return "not boxed"


def record(data: Dataset) -> list[dict]:
    """Each scene and other-side query searched as a client would, with what the search probed."""
    records = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        running = InProcess(Path(tmp) / "data")
        stack.callback(running.components.close)
        add_catalog(running, {**data.catalog, **data.distractors}, data.labels)
        choices = stack.enter_context(watched())
        for seed, queries in data.queries.items():
            for index, query in enumerate(queries):
                if query.kind == "duplicate":
                    continue
                choices.clear()
                answer = running.search(query.data, "default", query.box)
                probes = probes_of(choices[-1] if choices else None)
                records.append({
                    "seed": seed, "index": index, "kind": query.kind, "source": query.source,
                    "share": round(query.share, 4), "target": query.target, "box": list(query.box),
                    "products": answer.products, "region": list(answer.region), "probes": probes,
                    "place": place(query.target, answer.products, probes, query.box),
                })  # fmt: skip
    return records


def as_rows(records: list[dict]) -> list[dict]:
    """The records as the harness's rows of default searches (bench/quality/measure.py), with the place
    and the subjects probed, for bench/quality/misses.py to draw."""
    rows = []
    for record in records:
        target, products = record["target"], record["products"]
        rows.append({
            **record,
            "mode": "default",
            "rank": products.index(target) if target in products else None,
            "iou": Box(*record["region"]).iou(Box(*record["box"])),
            "found": products[:1],
            "probed": [probe["region"] for probe in record["probes"]],
        })  # fmt: skip
    return rows


def table(records: list[dict]) -> list[str]:
    """The places, by kind of query and size of object, every seed together (markdown)."""
    lines = ["| queries | size | n | " + " | ".join(PLACES) + " |", "|---|---|---|" + "---|" * len(PLACES)]
    for kind in ("scene", "viewpoint"):
        of_kind = [r for r in records if r["kind"] == kind]
        for size in [name for _, name in SIZE_BINS] + ["all"]:
            rows = [r for r in of_kind if size in ("all", size_bin(r["share"]))]
            if rows:
                count = Counter(r["place"] for r in rows)
                cells = " | ".join(str(count[name]) for name in PLACES)
                lines.append(f"| {kind} | {size} | {len(rows)} | {cells} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--per-object", type=int, default=2, help="queries of each object per seed")
    parser.add_argument("--furniture", type=int, default=120, help="rendered models queried")
    parser.add_argument("--duplicates", type=int, default=100, help="near-duplicate queries per seed")
    parser.add_argument("--catalog-styles", action="store_true", help="catalog shots eight ways, 480-1200 px")
    args = parser.parse_args()
    sizes = (args.per_object, args.furniture, args.duplicates)
    data = cached_build(fetch(), args.split, args.seeds, *sizes, int(args.catalog_styles))
    records = record(data)
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"{args.split}-styled" if args.catalog_styles else args.split
    out = OUT / f"{name}-probes.json"
    out.write_text(json.dumps(records))
    pictures = OUT / f"{name}-probes"
    shutil.rmtree(pictures, ignore_errors=True)
    misses = write_misses(data, as_rows(records), pictures)
    catalog = ", the catalog shot eight ways" if args.catalog_styles else ""
    print(f"# Where the default searches put the product: {args.split} split{catalog}, seeds {args.seeds}\n")
    print("\n".join(table(records)))
    print(f"\neach search's probes in {out}; {misses} pictures of misses in {pictures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
