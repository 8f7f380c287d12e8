"""The figures of a run, per source and per seed, their mean and worst over seeds, and by object size."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping

from bench.quality.queries import SIZE_BINS
from lookalike.domain.image import Box

# name, what it is, from the rows of one group (every mode of its queries)
FIGURES = ("R@1", "R@5", "IoU", "R@1 box", "R@1 whole")
LEGEND = (
    "R@1, R@5: the product first, among the first 5 (Crop and Region absent); IoU: mean IoU of "
    "PicInfo.Region with the true box; R@1 box: R@1 with the true box given as Region; R@1 whole: R@1 with "
    "Crop=false"
)


def _rate(rows: list[dict], mode: str, hit: Callable[[dict], bool]) -> float:
    chosen = [row for row in rows if row["mode"] == mode]
    return sum(map(hit, chosen)) / len(chosen) if chosen else float("nan")


def figures(rows: list[dict]) -> dict[str, float]:
    default = [row for row in rows if row["mode"] == "default"]
    return {
        "n": len(default),
        "R@1": _rate(rows, "default", lambda row: row["rank"] == 0),
        "R@5": _rate(rows, "default", lambda row: row["rank"] is not None),
        "IoU": statistics.mean(row["iou"] for row in default) if default else float("nan"),
        "R@1 box": _rate(rows, "true box", lambda row: row["rank"] == 0),
        "R@1 whole": _rate(rows, "crop=false", lambda row: row["rank"] == 0),
    }


def _groups(rows: Iterable[dict], key: Callable[[dict], str]) -> dict[str, dict[int, list[dict]]]:
    """Rows by group, then by seed, the groups in order of their names."""
    out: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        out[key(row)][row["seed"]].append(row)
    return {group: out[group] for group in sorted(out)}


KIND_GROUPS = {"viewpoint": "other side (furniture)", "duplicate": "near-duplicates"}


def objects_of(row: dict) -> str:
    return "furniture" if row["target"].startswith("furniture/") else "stamps"


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per group (each scene source, all scene queries, each source of objects, each size, the viewpoint
    changes, the near-duplicates): the figures of each seed, and their mean and worst over seeds."""
    scene = [row for row in rows if row["kind"] == "scene"]
    others = [row for row in rows if row["kind"] != "scene"]
    sizes = _groups(scene, lambda row: row["size"])
    groups = {
        **_groups(scene, lambda row: row["source"]),
        "all scenes": _groups(scene, lambda row: "all")["all"],
        **{f"objects: {name}": by_seed for name, by_seed in _groups(scene, objects_of).items()},
        **{f"size {name}": sizes[name] for _, name in SIZE_BINS if name in sizes},
        **{KIND_GROUPS[kind]: by_seed for kind, by_seed in _groups(others, lambda row: row["kind"]).items()},
    }
    out = {}
    for group, by_seed in groups.items():
        per_seed = {seed: figures(seed_rows) for seed, seed_rows in sorted(by_seed.items())}
        out[group] = {
            "seeds": per_seed,
            "mean": {f: statistics.mean(s[f] for s in per_seed.values()) for f in ("n", *FIGURES)},
            "worst": {f: min(s[f] for s in per_seed.values()) for f in FIGURES},
        }
    return out


def where_misses_are(rows: list[dict]) -> list[str]:
    """The misses of first place (Crop and Region absent), every seed: how many the true box as Region
    would have found, and of those how many the service looked for elsewhere (Region IoU < 0.3): where to
    look, or what a region looks like."""
    with_box = {(r["seed"], r["index"]): r["rank"] == 0 for r in rows if r["mode"] == "true box"}
    lines = [
        "| queries | misses of first place | found with the true box | of those, IoU < 0.3 "
        "| missed with it too |",
        "|---|---|---|---|---|",
    ]
    for kind in ("scene", "viewpoint"):
        missed = [r for r in rows if r["kind"] == kind and r["mode"] == "default" and r["rank"] != 0]
        if not missed:
            continue
        boxed = [r for r in missed if with_box[(r["seed"], r["index"])]]
        elsewhere = sum(r["iou"] < 0.3 for r in boxed)
        lines.append(f"| {kind} | {len(missed)} | {len(boxed)} | {elsewhere} | {len(missed) - len(boxed)} |")
    return lines


REGION_PLACES = ("on it", "around it, too wide", "on a part of it", "across it", "elsewhere")


def region_place(row: dict) -> str:
    """Where a search's Region lay against the product's true box: on it (IoU >= 0.5); around it, too wide
    (holding 70 % of it, it under half of the Region); on a part of it (70 % of the Region in it, under
    half of it); across it (some other overlap); elsewhere (none)."""
    box, found = Box(*row["box"]), Box(*row["region"])
    both = box.intersection(found)
    common, product, region = 0 if both is None else _area(both), _area(box), _area(found)
    if row["iou"] >= 0.5:
        return "on it"
    if common >= 0.7 * product and common < 0.5 * region:
        return "around it, too wide"
    if common >= 0.7 * region and common < 0.5 * product:
        return "on a part of it"
    return "across it" if common else "elsewhere"


def _area(box: Box) -> int:
    return box.width * box.height


def where_regions_lie(rows: list[dict]) -> list[str]:
    """The misses of first place (Crop and Region absent, scene queries, every seed) by where their Region
    lay (`region_place`), each split by whether the true box as Region found the product: a search that
    looked elsewhere needs another box; one around the product too wide, a tighter one; one on the product
    that missed, a better description."""
    with_box = {(r["seed"], r["index"]): r["rank"] == 0 for r in rows if r["mode"] == "true box"}
    missed = [r for r in rows if r["kind"] == "scene" and r["mode"] == "default" and r["rank"] != 0]
    places = Counter((region_place(r), with_box[(r["seed"], r["index"])]) for r in missed)
    lines = [
        "| scene misses: where the Region lay | misses | found with the true box | missed with it too |",
        "|---|---|---|---|",
    ]
    for place in REGION_PLACES:
        found, lost = places[place, True], places[place, False]
        lines.append(f"| {place} | {found + lost} | {found} | {lost} |")
    return lines


def what_came_first(rows: list[dict], shot_of: Mapping[str, str]) -> list[str]:
    """What came first where the product did not (scene and viewpoint queries), by the way its catalog shot
    was taken (`shot_of`: each stored product's, objects.py `style_of`), beside each way's share of the
    catalog: a way whose shots come first more often than their share lets them steal shoppers' searches
    (with Crop and Region absent, and with the true box as Region)."""
    counts: dict[str, Counter[str]] = {mode: Counter() for mode in ("default", "true box")}
    for r in rows:
        if r["kind"] != "duplicate" and r["mode"] in counts and r["rank"] != 0 and r["found"]:
            counts[r["mode"]][shot_of[r["found"][0]]] += 1
    shares = Counter(shot_of.values())
    lines = [
        "| the first result's catalog shot | share of the catalog | of the misses (default) "
        "| of the misses (true box as Region) |",
        "|---|---|---|---|",
    ]
    for way, n in shares.most_common():
        cells = [
            f"{counts[mode][way]} ({_share(counts[mode][way], counts[mode].total())})" for mode in counts
        ]
        lines.append(f"| {way} | {_share(n, len(shot_of))} | " + " | ".join(cells) + " |")
    return lines


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def _cell(value: float, figure: str) -> str:
    if value != value:  # NaN: the mode was not run
        return "-"
    return f"{value:.2f}" if figure == "IoU" else f"{value:.3f}"


def markdown(table: dict[str, dict]) -> str:
    """The tables: mean (worst) over seeds per group; each seed per group."""
    lines = [
        f"{LEGEND}. Mean over seeds, the worst seed in brackets.",
        "",
        "| queries | per seed | " + " | ".join(FIGURES) + " |",
        "|---|---|" + "---|" * len(FIGURES),
    ]
    for group, entry in table.items():
        cells = [f"{_cell(entry['mean'][f], f)} ({_cell(entry['worst'][f], f)})" for f in FIGURES]
        lines.append(f"| {group} | {entry['mean']['n']:.0f} | " + " | ".join(cells) + " |")
    lines += ["", "| queries | seed | n | " + " | ".join(FIGURES) + " |"]
    lines.append("|---|---|---|" + "---|" * len(FIGURES))
    for group, entry in table.items():
        for seed, s in entry["seeds"].items():
            cells = [_cell(s[f], f) for f in FIGURES]
            lines.append(f"| {group} | {seed} | {s['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
