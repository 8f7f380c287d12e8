"""Two runs of the harness side by side: did a change hold on the mean and the worst seed of every group?

    python -m bench.quality.compare BEFORE/summary.json AFTER/summary.json

Prints, per group (scene source, objects, size, other side, near-duplicates), each figure's mean and worst
seed before and after, and the change of each; a change counts when the mean and the worst rise together
across the sources, never on one seed.
"""

from __future__ import annotations

import json
import sys
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit(__doc__)
    before, after = (json.loads(Path(path).read_text()) for path in argv)
    print("\n".join(compare(before, after)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
