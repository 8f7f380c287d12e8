"""The lockstep CPU comparison of two checkouts, on a few real photographs: both workers add the catalog and
answer every kind of request, and each side's CPU per request is reported. (Here both sides are this
checkout; what the figures say is for `bench/bench_cpu_ab.py` on the real harness, not for a test.)"""

from __future__ import annotations

from pathlib import Path

from bench.bench_cpu_ab import compare

from tests.bench.test_quality_runs import small_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_two_checkouts_answer_the_same_requests_and_each_side_is_measured():
    data = small_dataset()
    table = compare(data, {"before": ROOT, "after": ROOT}, seeds=[1], scenes=10, server=False)
    scenes = sum(query.kind == "scene" for query in data.queries[1])
    expected = {"add": len(data.catalog), "near-duplicate": len(data.queries[1]) - scenes}
    expected |= {f"scene, {mode}": scenes for mode in ("default", "crop=false", "true box")}
    assert {key: row["n"] for key, row in table.items()} == expected
    assert all(row["before"] > 0 and row["after"] > 0 for row in table.values())
