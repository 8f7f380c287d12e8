"""Lookalike's own actions, for the life of instances and access keys (the command line and the console).

They are called as any 2020-12-14 action is, signed the same ways, under names the cloud does not use and
never will (they all begin with `Lookalike`). Only a key that may use every instance may call them: the
keys limited to instances are the ones handed to applications.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lookalike.api.params import Params
from lookalike.config import AccessKey
from lookalike.errors import LookalikeError
from lookalike.service.admin import Admin, InstanceStatus
from lookalike.service.instances import DEFAULT_CAPACITY
from lookalike.service.models import CLOUD_QPS, INSTANCE_TYPES, REQUEST_KINDS, RequestKind

PREFIX = "Lookalike"
AdminHandler = Callable[[Params, Admin], dict]
QPS_PARAMS: dict[RequestKind, str] = {kind: f"{kind.capitalize()}Qps" for kind in REQUEST_KINDS}
MAX_CAPACITY = 2**31 - 1
T = TypeVar("T")


def check_caller(key: AccessKey) -> None:
    if key.instances is not None:
        raise LookalikeError(
            "NoPermission",
            f"You are not authorized to perform this operation: access key {key.access_key_id} is limited "
            "to some instances; Lookalike's own actions need a key for every instance",
            status=403,
        )


def instance_fields(status: InstanceStatus) -> dict:
    instance = status.instance
    return {
        "Name": instance.name,
        "Type": instance.type,
        "ServiceType": instance.rules.service_type,
        "Capacity": instance.capacity,  # in images, not in the 10,000s Detail counts in
        "TotalCount": status.images,
        **{QPS_PARAMS[kind]: instance.qps(kind) for kind in REQUEST_KINDS},
        "Thumbnails": instance.thumbnails,
        "UtcCreate": str(instance.created_ms),
    }


def key_fields(key: AccessKey) -> dict:
    return {
        "AccessKeyId": key.access_key_id,
        "Instances": None if key.instances is None else sorted(key.instances),
    }


def list_instances(params: Params, admin: Admin) -> dict:
    return {"Success": True, "Instances": [instance_fields(s) for s in admin.list_instances()]}


def describe_instance(params: Params, admin: Admin) -> dict:
    return {"Success": True, "Instance": instance_fields(admin.describe_instance(_name(params)))}


def create_instance(params: Params, admin: Admin) -> dict:
    name, type = _name(params), params.get("Type") or "product"
    if type not in INSTANCE_TYPES:
        raise _invalid(f"Type is one of {', '.join(INSTANCE_TYPES)}, not {type!r}")
    capacity = _capacity(params) or DEFAULT_CAPACITY
    qps = _limits(params, CLOUD_QPS if params.boolean("CloudLimits", False) else {})
    thumbnails = params.boolean("Thumbnails", True)
    status = _domain(
        lambda: admin.create_instance(name, type, capacity, qps, thumbnails)  # type: ignore[arg-type]
    )
    return {"Success": True, "Instance": instance_fields(status)}


def update_instance(params: Params, admin: Admin) -> dict:
    name = _name(params)
    qps = _limits(params, CLOUD_QPS if params.boolean("CloudLimits", False) else {})
    thumbnails = None if params.get("Thumbnails") in (None, "") else params.boolean("Thumbnails", True)
    status = _domain(lambda: admin.update_instance(name, _capacity(params), qps, thumbnails))
    return {"Success": True, "Instance": instance_fields(status)}


def delete_instance(params: Params, admin: Admin) -> dict:
    admin.delete_instance(_name(params))
    return {"Success": True}


def list_access_keys(params: Params, admin: Admin) -> dict:
    return {"Success": True, "AccessKeys": [key_fields(key) for key in admin.list_keys()]}


def create_access_key(params: Params, admin: Admin) -> dict:
    listed = params.optional_text("Instances")
    instances = None if listed is None else [n.strip() for n in listed.split(",") if n.strip()]
    key = admin.create_key(instances)
    return {"Success": True, "AccessKey": {**key_fields(key), "AccessKeySecret": key.access_key_secret}}


def revoke_access_key(params: Params, admin: Admin) -> dict:
    # KeyId, not AccessKeyId: an RPC-signed request carries its own AccessKeyId.
    admin.revoke_key(params.required("KeyId", "MissingKeyId"))
    return {"Success": True}


ADMIN_ACTIONS: dict[str, AdminHandler] = {
    f"{PREFIX}ListInstances": list_instances,
    f"{PREFIX}DescribeInstance": describe_instance,
    f"{PREFIX}CreateInstance": create_instance,
    f"{PREFIX}UpdateInstance": update_instance,
    f"{PREFIX}DeleteInstance": delete_instance,
    f"{PREFIX}ListAccessKeys": list_access_keys,
    f"{PREFIX}CreateAccessKey": create_access_key,
    f"{PREFIX}RevokeAccessKey": revoke_access_key,
}


def _name(params: Params) -> str:
    return params.instance_name("MissingInstanceName")


def _capacity(params: Params) -> int | None:
    return params.integer("Capacity", "InvalidParameter", low=1, high=MAX_CAPACITY)


def _limits(params: Params, base: dict[RequestKind, int]) -> dict[RequestKind, int]:
    """The limits the request sets, over `base`; a limit not given is left as it is."""
    limits = dict(base)
    for kind, param in QPS_PARAMS.items():
        value = params.integer(param, "InvalidParameter", low=0)
        if value is not None:
            limits[kind] = value
    return limits


def _domain(call: Callable[[], T]) -> T:
    """The call's answer; what it refused (a name taken, a capacity below the count) as InvalidParameter."""
    try:
        return call()
    except ValueError as error:
        raise _invalid(str(error)) from None


def _invalid(what: str) -> LookalikeError:
    return LookalikeError("InvalidParameter", f"The specified parameter is not valid: {what}")
