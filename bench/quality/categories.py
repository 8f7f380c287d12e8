"""The category predictor, per category, on pictures whose shop label is known.

Two measurements: the model alone (each labelled picture searched in an instance that holds nothing, so no
stored neighbour votes), on the split's catalog shots with a product label, up to OTHERS of those filed under
Other, and foolbox's ImageNet photos; and the service as a shopper meets it (model and the catalog's own
labels), on the scene and viewpoint queries. The labelled product pictures are thin: the renders carry most
product categories, the stamps Snack, Toy and a camera, and only 3 of the 20 ImageNet photos are of a product
category (a folding chair, a slip-on shoe, a strawberry).
"""

from __future__ import annotations

from collections import defaultdict

from bench.quality.dataset import Dataset
from bench.quality.objects import hash_order
from bench.quality.runners import Service
from lookalike.vision.categories import CATEGORIES, OTHER

OTHERS = 100  # catalog shots filed under Other, measured: does the model keep out of the products' way?


def model_alone(service: Service, data: Dataset) -> list[tuple[int, int]]:
    """(label, prediction) of each measured picture."""
    others = [name for name in data.catalog if data.labels[name] == OTHER]
    measured = [name for name in data.catalog if data.labels[name] != OTHER] + hash_order(others)[:OTHERS]
    measured += [name for name in data.distractors if name.startswith("imagenet/")]
    pictures = {**data.catalog, **data.distractors}
    return [(data.labels[name], service.category_alone(pictures[name])) for name in measured]


def of_queries(rows: list[dict], labels: dict[str, int]) -> list[tuple[int, int]]:
    """(label, prediction) of every scene and viewpoint query, Crop and Region absent."""
    return [
        (labels[row["target"]], row["category"])
        for row in rows
        if row["kind"] != "duplicate" and row["mode"] == "default"
    ]


def table(title: str, pairs: list[tuple[int, int]]) -> list[str]:
    """Per label: how many, the share predicted right, and what the wrong ones were predicted as mostly."""
    by_label: dict[int, list[int]] = defaultdict(list)
    for label, predicted in pairs:
        by_label[label].append(predicted)
    lines = [title, "", "| category | pictures | right | wrong ones mostly |", "|---|---|---|---|"]
    for label in sorted(by_label, key=list(CATEGORIES).index):
        predictions = by_label[label]
        wrong = [p for p in predictions if p != label]
        mostly = CATEGORIES[max(set(wrong), key=wrong.count)] if wrong else "-"
        right = 1 - len(wrong) / len(predictions)
        lines.append(f"| {CATEGORIES[label]} | {len(predictions)} | {right:.2f} | {mostly} |")
    everything = sum(label == predicted for label, predicted in pairs) / len(pairs)
    return [*lines, f"| all | {len(pairs)} | {everything:.2f} | |"]
