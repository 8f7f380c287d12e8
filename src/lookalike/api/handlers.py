"""What an action's handler is: its parameters and the server's backends in, the answer's body out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lookalike.api.links import Links
from lookalike.api.params import Params
from lookalike.api.responses import Body
from lookalike.service.admin import Admin
from lookalike.service.images import ImageService
from lookalike.service.jobs import Jobs


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
