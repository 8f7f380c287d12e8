"""`lookalike instance ...` and `lookalike keys ...`: the life of instances and access keys.

Creating an instance or a key, changing a key and listing them only change files of the data directory,
which every server reads again when they change: they work whether or not a server runs. Showing, updating
and deleting an instance reach into the store too. If a server runs on the data directory on this machine,
they ask it over HTTP (Lookalike's own actions, signed with a key for every instance), since the embedded
store belongs to that server; otherwise they open the data directory here.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from lookalike.access_keys import (
    KEYS_FILE,
    create_access_key,
    load_access_keys,
    read_keys_file,
    revoke_access_key,
)
from lookalike.api.errors import ApiError
from lookalike.client import Client
from lookalike.config import Settings
from lookalike.domain.errors import LookalikeError
from lookalike.import_command import local_servers
from lookalike.service.admin import InstanceStatus
from lookalike.service.instances import Instances
from lookalike.service.models import CLOUD_QPS, NO_LIMITS, REQUEST_KINDS, Instance, RequestKind


class InstanceAdmin(Protocol):
    """What the commands below need of `lookalike.service.admin.Admin`, here or in a server."""

    def describe_instance(self, name: str) -> InstanceStatus: ...

    def update_instance(
        self,
        name: str,
        capacity: int | None = None,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool | None = None,
    ) -> InstanceStatus: ...

    def delete_instance(self, name: str) -> None: ...


class RemoteAdmin:
    """The admin of a running server, through its Lookalike* actions."""

    def __init__(self, client: Client):
        self.client = client

    def describe_instance(self, name: str) -> InstanceStatus:
        return _status(self.client.call("LookalikeDescribeInstance", InstanceName=name)["Instance"])

    def update_instance(
        self,
        name: str,
        capacity: int | None = None,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool | None = None,
    ) -> InstanceStatus:
        limits = {f"{kind.capitalize()}Qps": value for kind, value in (qps or {}).items()}
        shown = None if thumbnails is None else str(thumbnails).lower()
        answer = self.client.call(
            "LookalikeUpdateInstance", InstanceName=name, Capacity=capacity, Thumbnails=shown, **limits
        )
        return _status(answer["Instance"])

    def delete_instance(self, name: str) -> None:
        self.client.call("LookalikeDeleteInstance", InstanceName=name)


@contextlib.contextmanager
def instance_admin(args: argparse.Namespace) -> Iterator[InstanceAdmin]:
    """The running server's admin if one runs on the data directory on this machine, else one here."""
    if servers := local_servers(args):
        yield RemoteAdmin(Client(str(servers[0].url), *_admin_key(args)))
        return
    from lookalike.app import build_components
    from lookalike.service.admin import Admin

    components = build_components(Settings(data_dir=args.data, store_uri=args.store))
    try:
        yield Admin(components.service, components.jobs, args.data)
    finally:
        components.close()


def _admin_key(args: argparse.Namespace) -> tuple[str, str]:
    keys, _ = load_access_keys(args.data, create=False)
    for key_id, secret in keys.secrets.items():
        key = keys.get(key_id)
        if key is not None and key.instances is None:
            return key_id, secret
    raise ValueError(
        f"a server runs on {args.data}, and no key for every instance is at hand to ask it with: "
        "set LOOKALIKE_ACCESS_KEY_ID and LOOKALIKE_ACCESS_KEY_SECRET to the server's"
    )


def _status(fields: dict[str, Any]) -> InstanceStatus:
    instance = Instance(
        name=fields["Name"],
        type=fields["Type"],
        capacity=fields["Capacity"],
        created_ms=int(fields["UtcCreate"]),
        **{f"{kind}_qps": fields[f"{kind.capitalize()}Qps"] for kind in REQUEST_KINDS},
        thumbnails=fields["Thumbnails"],
    )
    return InstanceStatus(instance, fields["TotalCount"])


def limits_given(args: argparse.Namespace) -> dict[RequestKind, int]:
    """The limits the options set: --cloud-limits first, each --KIND-qps over it."""
    limits = dict(CLOUD_QPS) if args.cloud_limits else {}
    for kind in REQUEST_KINDS:
        value = getattr(args, f"{kind}_qps")
        if value is not None:
            limits[kind] = value
    return limits


def describe_limits(instance: Instance) -> str:
    return ", ".join(f"{kind} {instance.qps(kind) or 'unlimited'}/s" for kind in REQUEST_KINDS)


# -- the commands ------------------------------------------------------------------------------------------


def create(args: argparse.Namespace) -> int:
    qps = {**NO_LIMITS, **limits_given(args)}
    instances = Instances(args.data / "instances")
    instance = instances.create(args.name, args.type, args.capacity, qps, args.thumbnails is not False)
    print(
        f"created {instance.type} instance {instance.name!r} (capacity {instance.capacity}; "
        f"{describe_limits(instance)}) in {args.data}"
    )
    return 0


def list_(args: argparse.Namespace) -> int:
    for instance in Instances(args.data / "instances").list():
        print(f"{instance.name}\t{instance.type}\tcapacity {instance.capacity}")
    return 0


def show(args: argparse.Namespace) -> int:
    with instance_admin(args) as admin:
        status = admin.describe_instance(args.name)
    instance = status.instance
    created = datetime.fromtimestamp(instance.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(
        f"name:      {instance.name}\n"
        f"type:      {instance.type} (ServiceType {instance.rules.service_type})\n"
        f"images:    {status.images}\n"
        f"capacity:  {instance.capacity}\n"
        f"limits:    {describe_limits(instance)}\n"
        f"thumbnails: {'kept' if instance.thumbnails else 'off'}\n"
        f"created:   {created}"
    )
    return 0


def update(args: argparse.Namespace) -> int:
    qps = limits_given(args)
    if args.capacity is None and not qps and args.thumbnails is None:
        raise ValueError(
            "nothing to change: give --capacity, --KIND-qps, --cloud-limits or --[no-]thumbnails"
        )
    with instance_admin(args) as admin:
        status = admin.update_instance(args.name, args.capacity, qps, args.thumbnails)
    instance = status.instance
    print(f"updated instance {instance.name!r}: capacity {instance.capacity}; {describe_limits(instance)}")
    return 0


def delete(args: argparse.Namespace) -> int:
    with instance_admin(args) as admin:
        try:
            images = admin.describe_instance(args.name).images
        except (LookalikeError, ApiError):  # gone already, or a deletion cut short: finish it
            images = None
        admin.delete_instance(args.name)
    held = "" if images is None else f" and its {images} images"
    print(f"deleted instance {args.name!r}{held}")
    return 0


def keys_create(args: argparse.Namespace) -> int:
    instances = (
        None if args.instances is None else [n.strip() for n in args.instances.split(",") if n.strip()]
    )
    key = create_access_key(args.data, instances)
    scope = "every instance" if instances is None else "instances " + ", ".join(instances)
    print(f"AccessKeyId:     {key.access_key_id}\nAccessKeySecret: {key.access_key_secret}\nfor {scope}")
    return 0


def keys_list(args: argparse.Namespace) -> int:
    path = args.data / KEYS_FILE
    for key in read_keys_file(path) if path.exists() else []:
        print(f"{key.access_key_id}\t{'*' if key.instances is None else ','.join(sorted(key.instances))}")
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    if not revoke_access_key(args.data, args.access_key_id):
        raise ValueError(f"no access key {args.access_key_id} in {args.data / KEYS_FILE}")
    print(f"revoked {args.access_key_id}: every server of {args.data} refuses it from now on")
    return 0
