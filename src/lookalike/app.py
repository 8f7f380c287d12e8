"""Wire the service, vision and store into the ASGI application."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette

from lookalike.api.routes import Api
from lookalike.config import AccessKeys, Settings
from lookalike.service.images import ImageService
from lookalike.service.instances import Instances
from lookalike.service.uploads import FileUploadStore
from lookalike.store import open_store
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Vision
from lookalike.vision.text import OnnxTextTower


@dataclass
class Components:
    instances: Instances
    service: ImageService


def build_components(settings: Settings) -> Components:
    threads = settings.model_threads
    text = None if settings.text_model is None else OnnxTextTower(settings.text_model, threads=threads)
    vision = Vision(Embedder(settings.image_model, threads=threads), text)  # a wrong model stops here
    instances = Instances(settings.data_dir / "instances")
    store = open_store(settings.store_uri, settings.data_dir / "store")
    return Components(instances, ImageService(instances, store, vision))


def build_app(settings: Settings, keys: AccessKeys) -> Starlette:
    components = build_components(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            components.service.store.close()

    api = Api(components.service, keys, settings, FileUploadStore(settings.data_dir / "uploads"))
    return Starlette(routes=api.routes(), lifespan=lifespan)
