"""The state of a server, as an operator's tools read it: ready or not, and what it holds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from lookalike.service.instances import Instances
from lookalike.service.jobs import Jobs
from lookalike.store.base import Store


class Status:
    def __init__(self, instances: Instances, store: Store, jobs: Jobs, data_dir: Path):
        self.instances = instances
        self.store = store
        self.jobs = jobs
        self.data_dir = data_dir

    def problem(self) -> str | None:
        """Why the server cannot answer requests now (the store gone, the data directory not writable);
        None when it can."""
        try:
            self.store.ping()
        except Exception as error:
            return f"the store does not answer: {error}"
        probe = self.data_dir / f".ready.{os.getpid()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return f"the data directory {self.data_dir} cannot be written: {error}"
        return None

    def images_per_instance(self) -> Iterator[tuple[str, int]]:
        for instance in self.instances.list():
            try:
                yield instance.name, self.store.count(instance.collection)
            except KeyError:  # never used yet: no collection
                yield instance.name, 0

    def job_lines(self) -> list[tuple[str, str, int, int, int]]:
        return self.jobs.table.summary()
