"""The life of instances and access keys: what the command line, the admin actions and the console do.

An instance's data is spread over the data directory and the store: its file, its collection, its jobs and
their files, its request counts and the blobs beside its images (thumbnails). Deleting it removes all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lookalike.access_keys import KEYS_FILE, AccessKey, create_access_key, read_keys_file, revoke_access_key
from lookalike.domain.errors import BadValue, InstanceBusy, KeyNotFound
from lookalike.service.images import ImageService
from lookalike.service.jobs import Jobs
from lookalike.service.models import DEFAULT_CAPACITY, REQUEST_KINDS, Instance, InstanceType, RequestKind


@dataclass(frozen=True)
class InstanceStatus:
    instance: Instance
    images: int  # how many it holds


class Admin:
    def __init__(self, images: ImageService, jobs: Jobs, data_dir: Path):
        self.images = images
        self.instances = images.instances
        self.store = images.store
        self.jobs = jobs
        self.data_dir = data_dir

    # -- instances -------------------------------------------------------------------------------------------

    def create_instance(
        self,
        name: str,
        type: InstanceType = "product",
        capacity: int = DEFAULT_CAPACITY,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool = True,
    ) -> InstanceStatus:
        instance = self.instances.create(name, type, capacity, qps, thumbnails)
        return InstanceStatus(instance, 0)

    def list_instances(self) -> list[InstanceStatus]:
        return [self._status(instance) for instance in self.instances.list()]

    def describe_instance(self, name: str) -> InstanceStatus:
        return self._status(self.instances.get(name))

    def update_instance(
        self,
        name: str,
        capacity: int | None = None,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool | None = None,
    ) -> InstanceStatus:
        """Change capacity, limits or thumbnails; a capacity below what the instance holds is refused.
        Thumbnails turned off keeps those kept so far; they go with their images."""
        with self.images.locks.hold(name):  # no add between the count and the change
            status = self.describe_instance(name)
            if capacity is not None and capacity < status.images:
                raise BadValue(
                    "capacity",
                    f"instance {name!r} holds {status.images} images: its capacity cannot be less "
                    "(delete images first)",
                )
            changed = self.instances.update(name, capacity, qps, thumbnails)
            return InstanceStatus(changed, status.images)

    def delete_instance(self, name: str) -> None:
        """Delete the instance and everything it holds. Refused while one of its jobs has not ended."""
        if running := self.jobs.running(name):
            ids = ", ".join(str(job.id) for job in running)
            raise InstanceBusy(
                f"Instance {name!r} has a job that has not ended ({ids}): delete it once the job ends"
            )
        instance = self.instances.start_deleting(name)  # from here on, requests find no such instance
        with self.images.locks.hold(name):  # a write under way ends first
            self.store.drop_collection(instance.collection if instance else name)
            self.jobs.forget(name)
            self.images.limiter.forget([f"{name}/{kind}" for kind in REQUEST_KINDS])
            self.images.blobs.drop(name)
        self.instances.finish_deleting(name)

    def _status(self, instance: Instance) -> InstanceStatus:
        try:
            count = self.store.count(instance.collection)
        except KeyError:  # never used: no collection yet
            count = 0
        return InstanceStatus(instance, count)

    # -- access keys -----------------------------------------------------------------------------------------

    def create_key(self, instances: Sequence[str] | None = None) -> AccessKey:
        """A new key pair for every instance, or only for the named ones (which must exist)."""
        for name in instances or ():
            self.instances.get(name)
        return create_access_key(self.data_dir, instances)

    def list_keys(self) -> list[AccessKey]:
        """The keys of the keys file (those from the environment are not listed)."""
        path = self.data_dir / KEYS_FILE
        return read_keys_file(path) if path.exists() else []

    def revoke_key(self, access_key_id: str) -> None:
        if not revoke_access_key(self.data_dir, access_key_id):
            raise KeyNotFound(f"Specified access key is not found in the keys file: {access_key_id}")
