"""What the server measures of itself, for `GET /metrics` (Prometheus's text format).

The counters and histograms here are written by the parts that do the work (the api, the vision, the store
through `TimedStore`, the embedded engine's indexer); the numbers that are state rather than events (images
per instance, jobs) are read when Prometheus asks (`StateCollector`). Label values come only from closed
sets (known actions, the service's codes, stage names, instance names), so that no request can make the
registry grow.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

disable_created_metrics()  # type: ignore[no-untyped-call]  # the `_created` series say nothing to read
REGISTRY = CollectorRegistry(auto_describe=True)
STAGES = ("decode", "locate", "describe", "store", "total")
# Seconds: a store call is a millisecond, a search on two busy cores may take a second or more.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "lookalike_requests", "Requests answered, by action and code (0: success)", ["action", "code"],
    registry=REGISTRY,
)  # fmt: skip
STAGE_SECONDS = Histogram(
    "lookalike_stage_seconds",
    "Time per stage of a request: decode, locate, detect, describe (vision), store (engine calls), total",
    ["stage"],
    buckets=BUCKETS,
    registry=REGISTRY,
)
INDEX_BUILDS_RUNNING = Gauge(
    "lookalike_index_builds_running", "Index builds of the embedded engine under way", registry=REGISTRY
)
INDEX_BUILD_LAST_SECONDS = Gauge(
    "lookalike_index_build_last_seconds", "How long the last index build took", registry=REGISTRY
)
INDEX_BUILD_FAILURES = Counter(
    "lookalike_index_build_failures", "Index builds that failed (each one is logged)", registry=REGISTRY
)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as one stage of a request."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STAGE_SECONDS.labels(name).observe(time.perf_counter() - started)


@contextlib.contextmanager
def index_build() -> Iterator[None]:
    INDEX_BUILDS_RUNNING.inc()
    started = time.monotonic()
    try:
        yield
    except Exception:
        INDEX_BUILD_FAILURES.inc()
        raise
    finally:
        INDEX_BUILDS_RUNNING.dec()
        INDEX_BUILD_LAST_SECONDS.set(time.monotonic() - started)


class StateCollector(Collector):
    """The service's state, read at each scrape: images per instance, and the bulk jobs' lines."""

    def __init__(
        self,
        images_per_instance: Callable[[], Iterable[tuple[str, int]]],
        job_lines: Callable[[], Iterable[tuple[str, str, int, int, int]]],
    ):
        """`job_lines` gives (kind, status, jobs, lines done, lines failed) per kind and status."""
        self.images_per_instance = images_per_instance
        self.job_lines = job_lines

    def collect(self) -> Iterator[GaugeMetricFamily]:
        images = GaugeMetricFamily("lookalike_images", "Images an instance holds", labels=["instance"])
        for name, count in self.images_per_instance():
            images.add_metric([name], count)
        yield images
        jobs = GaugeMetricFamily("lookalike_jobs", "Bulk jobs, by kind and status", labels=["kind", "status"])
        lines = GaugeMetricFamily(
            "lookalike_job_lines", "Meta lines of the bulk jobs, done or failed", labels=["kind", "state"]
        )
        totals: dict[tuple[str, str], int] = {}
        for kind, status, count, done, failed in self.job_lines():
            jobs.add_metric([kind, status], count)
            totals[kind, "done"] = totals.get((kind, "done"), 0) + done
            totals[kind, "failed"] = totals.get((kind, "failed"), 0) + failed
        for (kind, state), value in sorted(totals.items()):
            lines.add_metric([kind, state], value)
        yield jobs
        yield lines
