"""Wire the service, vision and store into the ASGI application."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette

from lookalike.api.jobs import call_back, dump_line, parse_meta_line
from lookalike.api.links import Links
from lookalike.api.routes import Api
from lookalike.config import SERVER_FILE, AccessKeys, Settings, link_key
from lookalike.service.buckets import Buckets
from lookalike.service.images import ImageService
from lookalike.service.instances import Instances
from lookalike.service.jobs import Jobs
from lookalike.service.uploads import FileUploadStore
from lookalike.store import open_store
from lookalike.vision.embedder import Embedder
from lookalike.vision.pipeline import Vision
from lookalike.vision.text import OnnxTextTower


@dataclass
class Components:
    instances: Instances
    service: ImageService
    jobs: Jobs

    def close(self) -> None:
        self.jobs.close()  # first: running jobs write to the store
        self.service.store.close()


def build_components(settings: Settings) -> Components:
    """Everything but HTTP. Opening the store claims the data directory (a second process is refused)."""
    threads = settings.model_threads
    text = None if settings.text_model is None else OnnxTextTower(settings.text_model, threads=threads)
    vision = Vision(Embedder(settings.image_model, threads=threads), text)  # a wrong model stops here
    instances = Instances(settings.data_dir / "instances")
    store = open_store(settings.store_uri, settings.data_dir / "store")
    try:
        service = ImageService(instances, store, vision)
        buckets = Buckets.configure(settings.buckets)
        jobs = Jobs(settings.data_dir / "jobs", service, buckets, parse_meta_line, dump_line, call_back)
    except BaseException:
        store.close()
        raise
    return Components(instances, service, jobs)


def build_app(settings: Settings, keys: AccessKeys) -> Starlette:
    components = build_components(settings)
    links = Links(link_key(settings.data_dir), settings.link_ttl_seconds)
    uploads = FileUploadStore(settings.data_dir / "uploads")
    server_file = settings.data_dir / SERVER_FILE

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        components.jobs.resume()
        # The command line finds a running server here (and sends it work it cannot do itself).
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if settings.tls_cert else "http"
        server_file.write_text(json.dumps({"url": f"{scheme}://{host}:{settings.port}", "pid": os.getpid()}))
        try:
            yield
        finally:
            server_file.unlink(missing_ok=True)
            components.close()

    api = Api(components.service, keys, settings, uploads, components.jobs, links)
    return Starlette(routes=api.routes(), lifespan=lifespan)
