"""HTTP in, HTTP out: read the body within its limit, verify the signature, route to the action."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lookalike.api.actions import JOB_ACTIONS_2020, handler_for
from lookalike.api.errors import error_response
from lookalike.api.jobs import JobCall, job_file
from lookalike.api.links import Links
from lookalike.api.params import Params
from lookalike.api.signing import SignedRequest, check_clock, rpc_params, verify
from lookalike.config import AccessKeys, Settings
from lookalike.errors import LookalikeError
from lookalike.service.images import ImageService
from lookalike.service.jobs import Jobs

log = logging.getLogger("lookalike.api")

DEFAULT_VERSION = "2020-12-14"


class Api:
    def __init__(self, service: ImageService, keys: AccessKeys, settings: Settings, jobs: Jobs, links: Links):
        self.service = service
        self.keys = keys
        self.jobs = jobs
        self.links = links
        self.public_url = settings.public_url
        self.max_body = settings.max_body_bytes
        self.max_skew = timedelta(seconds=settings.clock_skew_seconds)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.rpc, methods=["GET", "POST"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/jobs/{job_id:int}/{name}", self.job_file, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def rpc(self, request: Request) -> Response:
        """The RPC style of 2020-12-14: the action in `x-acs-action` (ACS3) or `Action` (RPC signature)."""
        request_id = str(uuid.uuid4()).upper()
        try:
            signed = SignedRequest(
                method=request.method,
                path=request.scope.get("raw_path", b"/").decode("latin-1").split("?")[0],
                raw_query=request.scope.get("query_string", b"").decode("latin-1"),
                headers=request.headers,
                body=await read_body(request, self.max_body),
            )
            verified = verify(signed, self.keys.secret_for)
            check_clock(verified, datetime.now(UTC), self.max_skew)
            values = dict(rpc_params(signed))
            # Route only on what the signature covers: RPC signs the Action parameter, not the headers.
            if verified.scheme == "RPC-HMAC-SHA1":
                action, version = values.get("Action", ""), values.get("Version") or DEFAULT_VERSION
            else:
                action = request.headers.get("x-acs-action", "")
                version = request.headers.get("x-acs-version") or DEFAULT_VERSION
            handler = handler_for(version, action)
            target = (
                JobCall(self.jobs, self.links, self.origin(request))
                if action in JOB_ACTIONS_2020
                else self.service
            )
            body = await run_in_threadpool(handler, Params(values), target)
        except LookalikeError as error:
            return error_response(error, request_id, request.headers.get("host", ""))
        except Exception:
            log.exception("request %s failed", request_id)
            error = LookalikeError(
                "InternalError", "An internal server error occurred: see the server log", 500
            )
            return error_response(error, request_id, request.headers.get("host", ""))
        return JSONResponse({"RequestId": request_id, **body}, headers={"x-acs-request-id": request_id})

    async def job_file(self, request: Request) -> Response:
        """GET of a MetaUrl or ErrorUrl."""
        query = request.query_params
        try:
            return await run_in_threadpool(
                job_file,
                self.jobs,
                self.links,
                request.url.path,
                request.path_params["job_id"],
                query.get("Expires", ""),
                query.get("Signature", ""),
            )
        except LookalikeError as error:
            return error_response(error, str(uuid.uuid4()).upper(), request.headers.get("host", ""))

    def origin(self, request: Request) -> str:
        """Where links point: the configured public URL, else this server as the caller reached it."""
        return self.public_url or f"{request.url.scheme}://{request.headers.get('host', '')}"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to pass `limit` (before it is read whole)."""
    too_large = LookalikeError(
        "InvalidPicContent",
        f"The request body is larger than {limit} bytes: PicContent may hold at most 4 MB of picture",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
