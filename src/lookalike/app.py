"""Wire the service, vision and store into the ASGI application."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from lookalike.access_keys import AccessKeys, link_key
from lookalike.api.errors import LastResort, http_error
from lookalike.api.jobs import CallBacks
from lookalike.api.links import Links
from lookalike.api.replay import SharedNonceCache
from lookalike.api.routes import Api
from lookalike.config import Settings
from lookalike.datadir import NamedLocks, Registration
from lookalike.memory import GiveBackWhenIdle, return_big_blocks
from lookalike.service.admin import Admin
from lookalike.service.buckets import Buckets
from lookalike.service.image_blobs import ImageBlobs
from lookalike.service.images import ImageService
from lookalike.service.instances import Instances
from lookalike.service.jobs import Jobs
from lookalike.service.limits import SharedRateLimiter
from lookalike.service.status import Status
from lookalike.service.uploads import FileUploadStore
from lookalike.store import open_store
from lookalike.store.base import Store
from lookalike.store.timed import timed
from lookalike.vision.background import Background
from lookalike.vision.budget import DecodeBudget
from lookalike.vision.detector import Detector
from lookalike.vision.embedder import SCREEN_ASSET, Embedder
from lookalike.vision.fingerprint import check_or_record, fingerprint, stored_pooling
from lookalike.vision.pipeline import Vision
from lookalike.vision.pooling import DEFAULT, FEATURES, POOLINGS
from lookalike.vision.projection import Projection
from lookalike.vision.text import OnnxTextTower

log = logging.getLogger("lookalike")

# What a stopping server gives its data to close, after the requests in flight (cli.py): together under
# the 10 s a container runtime waits before it kills.
CLOSE_SECONDS = 4


@dataclass
class Components:
    instances: Instances
    service: ImageService
    jobs: Jobs
    process: Registration

    def close(self) -> None:
        self.jobs.close()  # first: running jobs write to the store
        self.service.store.close()
        self.service.limiter.close()
        self.service.blobs.close()
        self.service.locks.close()
        self.process.close()  # last: its jobs may be taken over once it is gone


def build_components(settings: Settings, url: str | None = None) -> Components:
    """Everything but HTTP, registered on the data directory as a process (a server if `url` says where it
    answers). Opening the embedded store claims the data directory (a second process is refused)."""
    return_big_blocks()  # this process decodes pictures: their memory goes back to the system when freed
    threads = settings.model_threads
    text = None if settings.text_model is None else OnnxTextTower(settings.text_model, threads=threads)
    budget = DecodeBudget(settings.decode_memory_bytes)
    data = settings.data_dir
    instances = Instances(data / "instances")
    stored = stored_pooling(data, bool(instances.list()))
    # New vectors are pooled as the stored ones were (a way this version does not know is refused below);
    # a text tower was trained against the model's own features.
    pooling = stored if stored in POOLINGS else (FEATURES if text else None)
    embedder = Embedder(settings.image_model, threads=threads, pooling=pooling)  # a wrong model stops here
    # The projection was learnt on the packaged model's R-MAC vectors; it means nothing for any other.
    packaged = settings.image_model is None and embedder.pooling == DEFAULT
    projection = Projection() if packaged else None
    background = Background() if packaged else None  # the bank holds the packaged descriptor's vectors
    # The screening model is the model the packaged one was fine-tuned from, quantised (the fine-tuned one
    # quantised screened worse: docs/quality.md, round 31); it serves the packaged model alone.
    screener = None
    if settings.image_model is None:
        screener = Embedder(threads=threads, pooling=embedder.pooling, asset=SCREEN_ASSET)
    vision = Vision(embedder, text, budget, Detector(threads=threads), projection, screener, background)
    # Another model's vectors cannot be compared with the ones stored: refused before anything opens.
    check_or_record(data, fingerprint(settings.image_model, vision.dim, embedder.pooling))
    with contextlib.ExitStack() as undo:  # what was opened is closed again if a later part fails
        store = timed(open_store(settings.store_uri, data / "store"))
        undo.callback(store.close)
        process = Registration(data, url)
        undo.callback(process.close)
        wal = one_machine(store)
        limiter, locks = SharedRateLimiter(data / "limits.sqlite3", wal=wal), NamedLocks(data / "locks")
        blobs = ImageBlobs(data / "blobs", wal=wal)
        service = ImageService(instances, store, vision, limiter, locks, blobs)
        buckets = Buckets.configure(settings.buckets)
        jobs = Jobs(data / "jobs", process, service, buckets, wal=wal)
        undo.pop_all()
    return Components(instances, service, jobs, process)


def one_machine(store: Store) -> bool:
    """Whether only this machine's processes use the data directory's databases: with an engine that one
    process owns, no other machine opens them, and they may keep a write-ahead log (see `open_database`)."""
    return not store.capabilities.shared


def server_url(settings: Settings) -> str:
    """Where the command line on this machine reaches the server."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if settings.tls_cert else 'http'}://{host}:{settings.port}"


def close_within(seconds: float, *closers: Callable[[], None]) -> bool:
    """Run the closers, in order, in a thread of their own, and wait for them at most `seconds`; whether they
    ended. Each collection of the embedded engine syncs all its memory maps as it closes: on a busy machine
    that is up to half a second each, minutes for a server that opened hundreds. What is not closed in time
    is left as a crash would leave it, which loses nothing: every acknowledged write is on disk already."""
    done = threading.Event()

    def close_all() -> None:
        try:
            for close in closers:
                close()
        except Exception:
            log.exception("closing the data directory failed")
        done.set()

    threading.Thread(target=close_all, name="closing", daemon=True).start()  # daemon: exit need not wait
    if done.wait(seconds):
        return True
    log.warning("the data directory is still closing after %g s: stopping without waiting for it", seconds)
    return False


def build_app(settings: Settings, keys: AccessKeys) -> Starlette:
    components = build_components(settings, server_url(settings))
    links = Links(link_key(settings.data_dir), settings.link_ttl_seconds)
    uploads = FileUploadStore(settings.data_dir / "uploads")
    nonces = SharedNonceCache(settings.data_dir / "nonces.sqlite3", wal=one_machine(components.service.store))

    callbacks = CallBacks(components.jobs)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        components.jobs.watch()
        callbacks.start()
        try:
            yield
        finally:
            # After the jobs, so that those that ended meanwhile are called back too.
            close_within(CLOSE_SECONDS, components.close, callbacks.stop, nonces.close)

    admin = Admin(components.service, components.jobs, settings.data_dir)
    status = Status(components.instances, components.service.store, components.jobs, settings.data_dir)
    api = Api(components.service, keys, settings, uploads, components.jobs, links, nonces, admin, status)
    return Starlette(
        routes=api.routes(),
        lifespan=lifespan,
        middleware=[Middleware(LastResort), Middleware(GiveBackWhenIdle)],
        exception_handlers={HTTPException: http_error},
    )
