"""CPU per add and per search of two checkouts side by side, in lockstep: is a change cheaper, by how much?

    python bench/bench_cpu_ab.py BEFORE AFTER [--seeds 11 12 13] [--scenes 364] [--server] [--catalog-styles]

BEFORE and AFTER are checkouts of Lookalike, each with its own `.venv` (`make .venv/.dev`): a worktree at the
old commit and one at the new. Each gets a worker process of its own (its venv, its code) that adds the
quality harness's development catalog and searches its scene queries (the first `--scenes` of each seed)
three ways (Crop and Region absent, Crop=false, the true box as Region) and its near-duplicates, in-process
(`bench/quality/runners.py`) or, with `--server`, through a real server and the official SDK. The driver
hands both workers the same chunks of ten requests in turn, the first of the pair alternating, so a busy
moment of the shared machine falls on both alike; each seed gets a new pair of workers (each adds the
catalog). It reports the CPU time of the serving process per request (the process's own, every thread of
it), before and after, and the change. A checkout older than `bench/quality/` (9cae6dc, issue 12's baseline)
needs this checkout's `bench/quality/` copied into it, with the shims docs/quality.md lists ("Issue 12's
budget, side by side").

How far to trust it: the same code measured twice a few minutes apart, one run after the other (120 scene
queries each, at a load of 10-15 on the 2 cores), gave 81.5 and 74.8 ms per default scene search; in
lockstep, the same checkout on both sides (one seed, one pair of workers, load 5-7) differed by +0.9 % per
add, +4.5 % per default scene search, +10.6 % and +9.4 % per Crop=false and true-box search, -0.1 % per
near-duplicate. A change smaller than that is not seen: run all three seeds, and more than once.
With `--catalog-styles` the catalog is shot eight ways at three sizes, as `bench_quality.py --catalog-styles`
shoots it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHUNK = 10  # requests handed to one worker at a time
MODES = ("default", "crop=false", "true box")  # bench/quality/runners.py's


def worker(data_file: str, through_server: bool) -> None:
    """Runs inside a checkout (its code first on the path): requests from stdin, CPU seconds to stdout."""
    sys.path.insert(0, str(Path.cwd()))
    from bench.quality.runners import service

    data = pickle.loads(Path(data_file).read_bytes())
    catalog = list({**data.catalog, **data.distractors}.items())
    with service(not through_server) as running:
        for line in sys.stdin:
            kind, *args = json.loads(line)
            before = running.cpu_seconds()
            if kind == "add":
                for name, picture in catalog[args[0] : args[1]]:
                    running.add(name, picture, data.labels[name])
            else:
                seed, mode, indexes = args
                for i in indexes:
                    query = data.queries[seed][i]
                    running.search(query.data, mode, query.box)
            print(json.dumps(running.cpu_seconds() - before), flush=True)


def requests(data, seeds: list[int], scenes: int) -> list[tuple[str, list]]:
    """(what it counts as, the request to a worker) for the whole run, in order."""
    total = len(data.catalog) + len(data.distractors)
    run = [("add", ["add", start, min(total, start + CHUNK * 5)]) for start in range(0, total, CHUNK * 5)]
    for seed in seeds:
        queries = data.queries[seed]
        scene = [i for i, query in enumerate(queries) if query.kind == "scene"][:scenes]
        for start in range(0, len(scene), CHUNK):
            part = scene[start : start + CHUNK]
            run += [(f"scene, {mode}", ["search", seed, mode, part]) for mode in MODES]
        duplicates = [i for i, query in enumerate(queries) if query.kind == "duplicate"]
        for start in range(0, len(duplicates), CHUNK):
            run.append(("near-duplicate", ["search", seed, "default", duplicates[start : start + CHUNK]]))
    return run


def compare(data, sides: dict[str, Path], seeds: list[int], scenes: int, server: bool) -> dict[str, dict]:
    """For each kind of request: how many, and the CPU seconds of each side's serving process per request."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as data_file:
        data_file.write(pickle.dumps(data))
        data_file.flush()
        command = [__file__, "--worker", data_file.name, *(["--server"] if server else [])]
        workers = {
            side: subprocess.Popen(
                [str(checkout / ".venv/bin/python"), *command],
                cwd=checkout,
                # Each side's code is its checkout's: a PYTHONPATH this driver was started with (a
                # wrapper venv's) would make both sides run the same code.
                env={name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for side, checkout in sides.items()
        }
        cpu: dict[str, dict[str, float]] = {side: defaultdict(float) for side in sides}
        count: dict[str, int] = defaultdict(int)
        try:
            for turn, (key, request) in enumerate(requests(data, seeds, scenes)):
                for side in list(sides) if turn % 2 == 0 else list(sides)[::-1]:
                    workers[side].stdin.write(json.dumps(request) + "\n")
                    workers[side].stdin.flush()
                    cpu[side][key] += json.loads(workers[side].stdout.readline())
                count[key] += request[2] - request[1] if request[0] == "add" else len(request[3])
        finally:
            for process in workers.values():
                process.stdin.close()
                process.wait()
    return {key: {"n": n, **{side: cpu[side][key] / n for side in sides}} for key, n in count.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--scenes", type=int, default=364, help="scene queries of each seed")
    parser.add_argument("--server", action="store_true", help="through a real server and the official SDK")
    parser.add_argument("--catalog-styles", action="store_true", help="the catalog shot eight ways")
    args = parser.parse_args()

    from bench.quality.dataset import cached_build
    from bench.quality.fetch import fetch

    # `make quality`'s set (or `--catalog-styles`'): no rebuild
    data = cached_build(fetch(), "dev", [11, 12, 13], 2, 120, 100, int(args.catalog_styles))
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    # A new pair of workers for each seed: two processes of the very same code differ by a few per cent (where
    # their memory lies, which core they share), which more pairs average out.
    total: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for seed in args.seeds:
        for key, row in compare(data, sides, [seed], args.scenes, args.server).items():
            total[key]["n"] += row["n"]
            for side in sides:
                total[key][side] += row[side] * row["n"]
    table = {
        key: {"n": int(row["n"]), **{side: row[side] / row["n"] for side in sides}}
        for key, row in total.items()
    }
    way = "through a real server and the official SDK" if args.server else "in-process"
    catalog = "the catalog shot eight ways at three sizes" if args.catalog_styles else "the catalog on white"
    seeds = " ".join(map(str, args.seeds))
    print(f"ms of CPU of the serving process per request, {way}, {catalog}, seeds {seeds}")
    print("| request | n | before | after | change |\n|---|---|---|---|---|")
    for key, row in table.items():
        before, after = row["before"] * 1000, row["after"] * 1000
        print(
            f"| {key} | {row['n']} | {before:.1f} | {after:.1f} | {100 * (after - before) / before:+.1f} % |"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], "--server" in sys.argv[3:])
    else:
        raise SystemExit(main())
