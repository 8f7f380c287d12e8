"""Two runs of the harness side by side: did a change hold on the mean and the worst seed of every group?

    python -m bench.quality.compare BEFORE/summary.json AFTER/summary.json

Prints, per group (scene source, objects, size, other side, near-duplicates), each figure's mean and worst
seed before and after, and the change of each; a change counts when the mean and the worst rise together
across the sources, never on one seed. When each run's `rows.json` lies beside its summary, it also says how
many searches answered otherwise (rank, Region, results or category) and, per kind of query, source and
mode, how many found their product first only before (lost) or only after (gained): a mean that holds can
hide a change that moved many answers both ways. Rows that looked for other products are counted and
named: such runs are not of the same set, and compare nothing.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from bench.quality.report import FIGURES


def _pair(entry: dict, figure: str) -> str:
    return f"{entry['mean'][figure]:.3f} ({entry['worst'][figure]:.3f})"


def compare(before: dict, after: dict) -> list[str]:
    """A row per group both runs have: each figure's mean (worst seed), before -> after."""
    lines = ["| queries | " + " | ".join(FIGURES) + " |", "|---|" + "---|" * len(FIGURES)]
    for group in (g for g in after if g in before and not g.startswith("cpu_")):
        cells = [
            "-"
            if after[group]["mean"][f] != after[group]["mean"][f]  # NaN: the mode was not run
            else f"{_pair(before[group], f)} → {_pair(after[group], f)}"
            for f in FIGURES
        ]
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    old, new = before.get("cpu_seconds_per_search", {}), after.get("cpu_seconds_per_search", {})
    lines += ["", "CPU of the serving process per search (ms), before -> after:"]
    lines += [f"- {kind}: {old[kind] * 1000:.1f} → {new[kind] * 1000:.1f}" for kind in new if kind in old]
    return lines


ANSWER = ("rank", "region", "found", "category")  # what a search answered, in a row of rows.json


def _key(row: dict) -> tuple:
    return row["seed"], row["kind"], row["index"], row["mode"]


def changed(before: list[dict], after: list[dict]) -> list[str]:
    """How many searches both runs made answered otherwise, and the first places lost and gained per kind
    of query, source and mode (only where some changed)."""
    old = {_key(row): row for row in before}
    both = [(old[_key(row)], row) for row in after if _key(row) in old]
    other = sum(any(a.get(field) != b.get(field) for field in ANSWER) for a, b in both)
    lines = [f"{other} of {len(both)} searches answered otherwise (rank, Region, results or category)."]
    if unlike := sum(a.get("target") != b.get("target") for a, b in both):
        lines.append(f"{unlike} searches looked for another product: the runs are not of the same set.")
    flips: Counter[tuple[str, str, str, bool]] = Counter()
    for a, b in both:
        if (a["rank"] == 0) != (b["rank"] == 0):
            flips[a["kind"], a["source"], a["mode"], b["rank"] == 0] += 1
    if flips:
        lines += ["", "| queries | source | mode | first only after (gained) | first only before (lost) |"]
        lines.append("|---|---|---|---|---|")
        for kind, source, mode in sorted({key[:3] for key in flips}):
            gained, lost = flips[kind, source, mode, True], flips[kind, source, mode, False]
            lines.append(f"| {kind} | {source} | {mode} | {gained} | {lost} |")
        gained, lost = (
            sum(n for key, n in flips.items() if key[3]),
            sum(n for key, n in flips.items() if not key[3]),
        )
        lines.append(f"| all | | | {gained} | {lost} |")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit(__doc__)
    paths = [Path(path) for path in argv]
    before, after = (json.loads(path.read_text()) for path in paths)
    lines = compare(before, after)
    rows = [path.with_name("rows.json") for path in paths]
    if all(path.exists() for path in rows):
        lines += ["", *changed(*(json.loads(path.read_text()) for path in rows))]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
