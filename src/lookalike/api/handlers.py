"""What an action's handler is (its parameters and the server's backends in, the answer's body out), and
what every handler asks first: the instance the request names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lookalike.api.links import Links
from lookalike.api.params import Params
from lookalike.api.responses import Body
from lookalike.service.admin import Admin
from lookalike.service.images import ImageService
from lookalike.service.jobs import Jobs
from lookalike.service.models import RequestKind


@dataclass(frozen=True)
class Backends:
    """What the actions work on: the image catalog, the bulk jobs with the links to their files, and the
    instances and keys themselves."""

    images: ImageService
    jobs: Jobs
    links: Links
    admin: Admin  # Lookalike's own actions: the life of instances and keys


# Handlers are plain functions run off the event loop; the router adds RequestId and renders errors.
Handler = Callable[[Params, Backends], Body]


def instance_for(params: Params, service: ImageService, kind: RequestKind | None) -> str:
    """The instance the request names, if the caller may use it and it exists, counted against its
    per-second limit of requests of `kind`."""
    name = params.instance_name()
    service.instances.get(name)
    if kind is not None:
        service.admit(name, kind)
    return name
