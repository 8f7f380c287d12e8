"""HTTP in, HTTP out: read the body within its limit, verify the signature, route to the action."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lookalike.api.actions import handler_for
from lookalike.api.errors import error_response
from lookalike.api.params import Params
from lookalike.api.signing import SignedRequest, check_clock, rpc_params, verify
from lookalike.config import AccessKeys, Settings
from lookalike.errors import LookalikeError
from lookalike.service.images import ImageService

log = logging.getLogger("lookalike.api")

DEFAULT_VERSION = "2020-12-14"


class Api:
    def __init__(self, service: ImageService, keys: AccessKeys, settings: Settings):
        self.service = service
        self.keys = keys
        self.max_body = settings.max_body_bytes
        self.max_skew = timedelta(seconds=settings.clock_skew_seconds)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.rpc, methods=["GET", "POST"]),
            Route("/healthz", self.health, methods=["GET"]),
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
            body = await run_in_threadpool(handler, Params(values), self.service)
        except LookalikeError as error:
            return error_response(error, request_id, request.headers.get("host", ""))
        except Exception:
            log.exception("request %s failed", request_id)
            error = LookalikeError(
                "InternalError", "An internal server error occurred: see the server log", 500
            )
            return error_response(error, request_id, request.headers.get("host", ""))
        return JSONResponse({"RequestId": request_id, **body}, headers={"x-acs-request-id": request_id})


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
