"""Search quality on real photographs: does a shopper's photo of a product find it first, on every source
of scenes, every seed, every size of object?

    python bench/bench_quality.py [--split dev|heldout] [--seeds 11 12 13] [--in-process]
                                  [--per-object 2] [--furniture 120] [--duplicates 100] [--no-misses]
                                  [--catalog-styles] [--scene-side 800] [--portrait]
                                  [--object-share 0.02 0.40]

(`make quality` runs it with the defaults: the development split, three seeds, through a real server.)

Installs its pictures from the registries first (bench/quality/fetch.py, into bench/.cache/), builds the
split's catalog and each seed's queries (bench/quality/: objects.py, scenes.py, queries.py say how each set
is made), starts a real server on a loopback port with a fresh data directory and adds the catalog through
the official SDK, or, with --in-process, calls the real ImageService over a real embedded store without
HTTP (bench/quality/runners.py). Then searches every query, and reports per scene source and per seed, with
the mean and the worst over seeds, by source of objects and by object size: R@1, R@5, Region IoU, R@1
with the true box as Region, R@1 with Crop=false; the same for the other side of a rendered model; and
near-duplicate R@1; the serving process's CPU per search; the category predicted, by the model alone on
the labelled pictures and by the service for the queries (bench/quality/categories.py). Writes
report.md, summary.json, rows.json and a picture of every miss (misses/seedN/) to
bench/out/quality/SPLIT[-in-process]/.

Tune on the development split only: the held-out split (its own objects and scene photos) is for reporting.
The framing options (--scene-side, --portrait, --object-share; queries.py `Framing`) lay the same objects
in the same scenes framed otherwise: they tell whether a figure holds for shoppers' photos unlike the
harness's, never what to tune on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality import categories
from bench.quality.dataset import cached_build
from bench.quality.fetch import fetch
from bench.quality.measure import measure
from bench.quality.misses import write_misses
from bench.quality.objects import SPLITS, style_of
from bench.quality.queries import HARNESS_FRAMING, Framing
from bench.quality.report import markdown, summary, what_came_first, where_misses_are, where_regions_lie
from bench.quality.runners import add_catalog, service

OUT = Path(__file__).resolve().parent / "out" / "quality"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--in-process", action="store_true", help="the ImageService without HTTP (faster)")
    parser.add_argument("--per-object", type=int, default=2, help="queries of each object per seed")
    parser.add_argument("--furniture", type=int, default=120, help="rendered models queried (all in catalog)")
    parser.add_argument("--duplicates", type=int, default=100, help="near-duplicate queries per seed")
    parser.add_argument(
        "--catalog-styles",
        action="store_true",
        help="catalog shots eight ways (tight, thin, grey, beige, sweep, shadow, room, white), 480-1200 px",
    )
    parser.add_argument("--no-misses", action="store_true", help="write no pictures of the misses")
    framing = parser.add_argument_group("framing", "shoppers' photos framed otherwise than `make quality`'s")
    framing.add_argument("--scene-side", type=int, default=Framing.side, help="longer side of a scene, px")
    framing.add_argument("--portrait", action="store_true", help="scenes cut upright, 3 wide to 4 high")
    framing.add_argument(
        "--object-share",
        type=float,
        nargs=2,
        default=Framing.shares,
        metavar=("LEAST", "MOST"),
        help="the share of the frame an object's box covers, drawn log-uniform between these",
    )
    args = parser.parse_args()
    least, most = args.object_share
    framed = Framing(args.scene_side, args.portrait, (least, most))

    started = time.perf_counter()
    sizes = (args.per_object, args.furniture, args.duplicates)
    data = cached_build(fetch(), args.split, args.seeds, *sizes, int(args.catalog_styles), framing=framed)
    way = "in-process (ImageService, embedded store, no HTTP)" if args.in_process else "real server + SDK"
    print(
        f"{args.split} split: catalog {len(data.catalog)} objects + {len(data.distractors)} distractors; "
        f"{len(next(iter(data.queries.values())))} queries a seed, seeds {args.seeds}; {way}",
        flush=True,
    )
    with service(args.in_process) as running:
        before = running.cpu_seconds()
        add_catalog(running, pictures := {**data.catalog, **data.distractors}, data.labels)
        cpu_per_add = (running.cpu_seconds() - before) / len(pictures)
        rows, cpu = measure(running, data)
        alone = categories.model_alone(running, data)
    table = summary(rows)
    # With the catalog shot eight ways: which way's shots came first where the product did not.
    thieves = (
        [*what_came_first(rows, {name: style_of(name) for name in pictures}), ""]
        if args.catalog_styles
        else []
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = "\n".join([
        f"# {args.split} split, seeds {' '.join(map(str, args.seeds))}, {way}"
        + ("" if framed == HARNESS_FRAMING else f"; scenes framed {framed}"),
        "",
        markdown(table),
        "",
        *where_misses_are(rows),
        "",
        *where_regions_lie(rows),
        "",
        *thieves,
        *categories.table("The category of the model alone, on the labelled pictures:", alone),
        "",
        *categories.table(
            "The category the service predicts for the scene and viewpoint queries (every seed):",
            categories.of_queries(rows, data.labels),
        ),
        "",
        f"CPU of the serving process per add: {cpu_per_add * 1000:.1f} ms; per search (ms): "
        + "; ".join(f"{kind} {seconds * 1000:.1f}" for kind, seconds in cpu.items()),
        "",
        f"{time.perf_counter() - started:.0f} s in all; load average {load} on {os.cpu_count()} cores",
    ])  # fmt: skip
    out = OUT / (args.split + ("-in-process" if args.in_process else ""))
    shutil.rmtree(out / "misses", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    misses = 0 if args.no_misses else write_misses(data, rows, out / "misses")
    (out / "report.md").write_text(text + "\n")
    cpu_seconds = {"cpu_seconds_per_add": cpu_per_add, "cpu_seconds_per_search": cpu}
    (out / "summary.json").write_text(json.dumps({**cpu_seconds, **table}, indent=1))
    (out / "rows.json").write_text(json.dumps(rows))
    print(text)
    print(f"\n{misses} pictures of misses in {out / 'misses'}; the tables in {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
