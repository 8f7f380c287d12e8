"""Lookalike's own actions, for the life of instances and access keys (the command line and the console).

They are called as any 2020-12-14 action is, signed the same ways, under names the cloud does not use and
never will (they all begin with `Lookalike`). Only a key that may use every instance may call them: the
keys limited to instances are the ones handed to applications.
"""

from __future__ import annotations

from lookalike.access_keys import AccessKey
from lookalike.api.errors import ApiError
from lookalike.api.handlers import Backends, Handler
from lookalike.api.params import Params
from lookalike.api.responses import Body, success
from lookalike.service.admin import InstanceStatus
from lookalike.service.models import CLOUD_QPS, DEFAULT_CAPACITY, INSTANCE_TYPES, REQUEST_KINDS, RequestKind

PREFIX = "Lookalike"
QPS_PARAMS: dict[RequestKind, str] = {kind: f"{kind.capitalize()}Qps" for kind in REQUEST_KINDS}
MAX_CAPACITY = 2**31 - 1


def unrestricted(handler: Handler) -> Handler:
    """The handler, for a key that may use every instance only."""

    def checked(params: Params, on: Backends) -> Body:
        key = params.context.caller
        if key is not None and key.instances is not None:
            raise ApiError(
                "NoPermission",
                f"You are not authorized to perform this operation: access key {key.access_key_id} is "
                "limited to some instances; Lookalike's own actions need a key for every instance",
                status=403,
            )
        return handler(params, on)

    return checked


def instance_fields(status: InstanceStatus) -> Body:
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


def key_fields(key: AccessKey) -> Body:
    return {
        "AccessKeyId": key.access_key_id,
        "Instances": None if key.instances is None else sorted(key.instances),
    }


def list_instances(params: Params, on: Backends) -> Body:
    return success(None, Instances=[instance_fields(s) for s in on.admin.list_instances()])


def describe_instance(params: Params, on: Backends) -> Body:
    return success(None, Instance=instance_fields(on.admin.describe_instance(_name(params))))


def create_instance(params: Params, on: Backends) -> Body:
    name, type = _name(params), params.get("Type") or "product"
    if type not in INSTANCE_TYPES:
        raise _invalid(f"Type is one of {', '.join(INSTANCE_TYPES)}, not {type!r}")
    capacity = _capacity(params) or DEFAULT_CAPACITY
    qps = _limits(params, CLOUD_QPS if params.boolean("CloudLimits", False) else {})
    thumbnails = params.boolean("Thumbnails", True)
    status = on.admin.create_instance(name, type, capacity, qps, thumbnails)
    return success(None, Instance=instance_fields(status))


def update_instance(params: Params, on: Backends) -> Body:
    name = _name(params)
    qps = _limits(params, CLOUD_QPS if params.boolean("CloudLimits", False) else {})
    thumbnails = None if params.get("Thumbnails") in (None, "") else params.boolean("Thumbnails", True)
    status = on.admin.update_instance(name, _capacity(params), qps, thumbnails)
    return success(None, Instance=instance_fields(status))


def delete_instance(params: Params, on: Backends) -> Body:
    on.admin.delete_instance(_name(params))
    return success(None)


def list_access_keys(params: Params, on: Backends) -> Body:
    return success(None, AccessKeys=[key_fields(key) for key in on.admin.list_keys()])


def create_access_key(params: Params, on: Backends) -> Body:
    listed = params.optional_text("Instances")
    instances = None if listed is None else [n.strip() for n in listed.split(",") if n.strip()]
    key = on.admin.create_key(instances)
    return success(None, AccessKey={**key_fields(key), "AccessKeySecret": key.access_key_secret})


def revoke_access_key(params: Params, on: Backends) -> Body:
    # KeyId, not AccessKeyId: an RPC-signed request carries its own AccessKeyId.
    on.admin.revoke_key(params.required("KeyId", "MissingKeyId"))
    return success(None)


ADMIN_ACTIONS: dict[str, Handler] = {
    f"{PREFIX}ListInstances": unrestricted(list_instances),
    f"{PREFIX}DescribeInstance": unrestricted(describe_instance),
    f"{PREFIX}CreateInstance": unrestricted(create_instance),
    f"{PREFIX}UpdateInstance": unrestricted(update_instance),
    f"{PREFIX}DeleteInstance": unrestricted(delete_instance),
    f"{PREFIX}ListAccessKeys": unrestricted(list_access_keys),
    f"{PREFIX}CreateAccessKey": unrestricted(create_access_key),
    f"{PREFIX}RevokeAccessKey": unrestricted(revoke_access_key),
}


def _name(params: Params) -> str:
    return params.instance_name()


def _capacity(params: Params) -> int | None:
    return params.optional_integer("Capacity", "InvalidParameter", low=1, high=MAX_CAPACITY)


def _limits(params: Params, base: dict[RequestKind, int]) -> dict[RequestKind, int]:
    """The limits the request sets, over `base`; a limit not given is left as it is."""
    limits = dict(base)
    for kind, param in QPS_PARAMS.items():
        value = params.optional_integer(param, "InvalidParameter", low=0)
        if value is not None:
            limits[kind] = value
    return limits


def _invalid(what: str) -> ApiError:
    return ApiError("InvalidParameter", f"The specified parameter is not valid: {what}")
