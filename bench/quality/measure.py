"""Every query of every seed, searched every way; one row per search."""

from __future__ import annotations

from collections import defaultdict

from bench.quality.dataset import Dataset
from bench.quality.queries import size_bin
from bench.quality.runners import MODES, Service


def measure(service: Service, data: Dataset) -> tuple[list[dict], dict[str, float]]:
    """The rows, and the serving process's CPU seconds per search of each mode (of each kind of query).
    Near-duplicates are searched as a client would only; the modes take turns on each other query, so a
    busy moment of the machine hits all."""
    rows, cpu, count = [], defaultdict(float), defaultdict(int)
    for seed, queries in data.queries.items():
        for index, query in enumerate(queries):
            for mode in MODES[:1] if query.kind == "duplicate" else MODES:
                before = service.cpu_seconds()
                answer = service.search(query.data, mode, query.box)
                cpu[f"{query.kind}, {mode}"] += service.cpu_seconds() - before
                count[f"{query.kind}, {mode}"] += 1
                rank = answer.products.index(query.target) if query.target in answer.products else None
                rows.append({
                    "seed": seed, "index": index, "kind": query.kind, "source": query.source,
                    "share": round(query.share, 4), "size": size_bin(query.share), "target": query.target,
                    "mode": mode, "rank": rank, "iou": round(answer.region.iou(query.box), 4),
                    "box": list(query.box), "region": list(answer.region), "found": answer.products[:1],
                    "category": answer.category,
                })  # fmt: skip
    return rows, {key: cpu[key] / count[key] for key in cpu}
