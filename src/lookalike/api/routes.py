"""HTTP in, HTTP out: read the body within its limit, verify the signature, route to the action.

Three protocol generations share one pipeline: 2020-12-14 (RPC style, `/`), 2019-03-25 (ROA style,
`/v2/image/*`) and the first protocol (`/item/*`, caret bodies). Routing uses only what the signature covers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message

from lookalike.access_keys import AccessKey, AccessKeys
from lookalike.api import uploads
from lookalike.api.actions import ACTIONS_2020, family_of, handler_for
from lookalike.api.actions_2019 import ACTIONS_2019
from lookalike.api.admin import ADMIN_ACTIONS
from lookalike.api.browse import BROWSE_ACTIONS
from lookalike.api.codes import Family, wire_error
from lookalike.api.errors import ApiError, error_response, new_request_id, oss_error_response
from lookalike.api.handlers import Backends
from lookalike.api.jobs import job_file
from lookalike.api.legacy import LEGACY_ACTIONS, decode_body, legacy_params
from lookalike.api.links import Links
from lookalike.api.observe import RequestRecord, known_actions
from lookalike.api.params import Params, RequestContext
from lookalike.api.replay import NonceCache
from lookalike.api.responses import Body
from lookalike.api.signing import SignedRequest, Verified, check_clock, rpc_params, verify
from lookalike.config import Settings
from lookalike.domain.errors import LookalikeError
from lookalike.metrics import REGISTRY, StateCollector
from lookalike.service.admin import Admin
from lookalike.service.images import ImageService
from lookalike.service.jobs import Jobs
from lookalike.service.status import Status
from lookalike.service.uploads import UploadStore

log = logging.getLogger("lookalike.api")

DEFAULT_VERSION = "2020-12-14"
READY_TIMEOUT_SECONDS = 5
# The body of an action: from the request as received, once its signature has been checked.
Work = Callable[[SignedRequest, Verified, AccessKey, RequestRecord], Awaitable[Body]]
# Every action name a request may be counted under (api/observe.py); any other counts as "unknown".
KNOWN_ACTIONS = known_actions(
    ACTIONS_2020,
    ADMIN_ACTIONS,
    BROWSE_ACTIONS,
    ["AuthorizeFileUpload"],
    (f"v2/image/{verb}" for verb in ACTIONS_2019),
    (f"item/{verb}" for verb in LEGACY_ACTIONS),
)


class Api:
    def __init__(
        self,
        service: ImageService,
        keys: AccessKeys,
        settings: Settings,
        upload_store: UploadStore,
        jobs: Jobs,
        links: Links,
        nonces: NonceCache,
        admin: Admin,
        status: Status,
    ):
        self.service = service
        self.backends = Backends(service, jobs, links, admin)
        self.status = status
        self.state_metrics = CollectorRegistry()
        self.state_metrics.register(StateCollector(status.images_per_instance, status.job_lines))
        self.keys = keys
        self.uploads = upload_store
        self.jobs = jobs
        self.links = links
        self.nonces = nonces
        self.public_url = settings.public_url
        self.max_body = settings.max_body_bytes
        self.max_skew = timedelta(seconds=settings.clock_skew_seconds)
        self.region_id = settings.region_id

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.rpc, methods=["GET", "POST"]),
            Route("/v2/image/{verb}", self.roa, methods=["POST"]),
            Route("/item/{verb}", self.legacy, methods=["POST"]),
            Route(uploads.UPLOAD_PATH, self.upload, methods=["POST"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/readyz", self.ready, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Mount("/console", StaticFiles(packages=[("lookalike", "console")], html=True), name="console"),
            Route("/jobs/{job_id}/{name}", self.job_file, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        """200 while the server can answer requests; 503, saying why, while it cannot."""
        try:
            problem = await asyncio.wait_for(run_in_threadpool(self.status.problem), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            problem = f"the store and the data directory did not answer within {READY_TIMEOUT_SECONDS} s"
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics(self, request: Request) -> Response:
        """Prometheus's text format: the counters and histograms, and the state read now."""
        state = await run_in_threadpool(generate_latest, self.state_metrics)
        return Response(generate_latest(REGISTRY) + state, media_type=CONTENT_TYPE_LATEST)

    async def rpc(self, request: Request) -> Response:
        """2020-12-14 and AuthorizeFileUpload: the action in `x-acs-action` (ACS3) or `Action` (RPC). A
        person's browser asking for / (no query, no signature) is sent to the console."""
        if request.method == "GET" and not request.url.query and "authorization" not in request.headers:
            return RedirectResponse("/console/", status_code=302)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            return await self.upload(request)  # an upload over HTTPS comes to the root (uploads.py)

        async def work(
            signed: SignedRequest, verified: Verified, key: AccessKey, seen: RequestRecord
        ) -> Body:
            values = dict(rpc_params(signed))
            seen.name_instance(values.get("InstanceName"))
            # Route only on what the signature covers: RPC signs the Action parameter, not the headers.
            if verified.scheme == "RPC-HMAC-SHA1":
                action, version = values.get("Action", ""), values.get("Version") or DEFAULT_VERSION
            else:
                action = request.headers.get("x-acs-action", "")
                version = request.headers.get("x-acs-version") or DEFAULT_VERSION
            if (version, action) == (uploads.UPLOAD_VERSION, "AuthorizeFileUpload"):
                host, https = request.headers.get("host", ""), request.url.scheme == "https"
                return uploads.authorize(host, https, key, self.uploads, time.time())
            handler, params = handler_for(version, action), Params(values, self._context(request, key))
            return await self._call(family_of(action), lambda: handler(params, self.backends))

        return await self._serve(request, work)

    async def roa(self, request: Request) -> Response:
        """2019-03-25: the action in the path, which every signature scheme covers."""
        handler = ACTIONS_2019.get(request.path_params["verb"])
        if handler is None:
            raise HTTPException(404)  # InvalidAction.NotFound (api/errors.py), before any signature is read

        async def work(
            signed: SignedRequest, verified: Verified, key: AccessKey, seen: RequestRecord
        ) -> Body:
            params = Params(dict(rpc_params(signed)), self._context(request, key))
            seen.name_instance(params.get("InstanceName"))
            return await self._call("roa", lambda: handler(params, self.backends))

        return await self._serve(request, work)

    async def legacy(self, request: Request) -> Response:
        """The first protocol: the action in the path, parameters in a caret body."""
        handler = LEGACY_ACTIONS.get(request.path_params["verb"])
        if handler is None:
            raise HTTPException(404)

        async def work(
            signed: SignedRequest, verified: Verified, key: AccessKey, seen: RequestRecord
        ) -> Body:
            if signed.body and verified.scheme == "ROA-HMAC-SHA1" and "content-md5" not in request.headers:
                raise ApiError(
                    "IncompleteSignature",
                    "The request signature is incomplete: a legacy request signs its body by Content-MD5.",
                )
            fields = decode_body(signed.body)
            query = dict(parse_qsl(signed.raw_query, keep_blank_values=True))
            seen.name_instance(query.get("instanceName"))
            params = legacy_params(query, fields, self._context(request, key))
            return await self._call("caret", lambda: handler(params, fields, self.service))

        return await self._serve(request, work)

    async def upload(self, request: Request) -> Response:
        """The *_advance methods' multipart upload, authorised by the policy AuthorizeFileUpload signed."""
        request_id = new_request_id()
        try:
            too_large = ApiError(
                "EntityTooLarge",
                f"Your proposed upload exceeds the maximum allowed size: {self.max_body} bytes",
            )
            try:
                # The Node.js SDK sends it chunked, without a Content-Length: the size is counted as read.
                limited = within(request, self.max_body, too_large)
                form = await limited.form(max_files=1, max_fields=16)
            except HTTPException as error:
                raise ApiError("InvalidArgument", f"The upload is not a valid form: {error.detail}") from None
            fields = {name: value for name, value in form.items() if isinstance(value, str)}
            file = form.get("file")
            data = await file.read() if isinstance(file, UploadFile) else None
            answer = uploads.receive(fields, data, self.keys, self.uploads, time.time())
        except ApiError as error:
            return oss_error_response(error, request_id, request.headers.get("host", ""))
        except ClientDisconnect:  # its one line (an action's is its request line, see `_serve`)
            host, port = request.client or ("?", "?")
            log.info("upload %s from %s:%s: the client went away (or was too slow) mid-request", request_id,
                     host, port)  # fmt: skip
            raise
        return Response(answer, status_code=201, media_type="application/xml")

    async def _serve(self, request: Request, work: Work) -> Response:
        request_id = new_request_id()
        record, code = RequestRecord(request_id, KNOWN_ACTIONS), "InternalError"
        record.name_action(_action_named(request))
        try:
            signed = SignedRequest(
                method=request.method,
                path=request.scope.get("raw_path", b"/").decode("latin-1").split("?")[0],
                raw_query=request.scope.get("query_string", b"").decode("latin-1"),
                headers=request.headers,
                body=await read_body(request, self.max_body),
            )
            verified = verify(signed, self.keys.secret_for)
            record.key_id = verified.access_key_id
            if verified.scheme == "RPC-HMAC-SHA1":  # it signs the Action parameter, not the header
                record.name_action(dict(rpc_params(signed)).get("Action", ""))
            check_clock(verified, datetime.now(UTC), self.max_skew)
            await run_in_threadpool(self._check_nonce, verified)  # it may wait for another process
            key = self.keys.get(verified.access_key_id)
            if key is None:  # taken out of the keys file since it was verified
                raise ApiError(
                    "InvalidAccessKeyId.NotFound",
                    f"Specified access key is not found: {verified.access_key_id}",
                    404,
                )
            body = await work(signed, verified, key, record)
            code = "0"
        except ApiError as error:
            code = error.code
            return error_response(error, request_id, request.headers.get("host", ""))
        except ClientDisconnect:  # answered by api/errors.py; counted as what it is, not as our failure
            code = "ClientDisconnected"
            raise
        finally:
            record.finish(code)
        return JSONResponse({"RequestId": request_id, **body}, headers={"x-acs-request-id": request_id})

    async def job_file(self, request: Request) -> Response:
        """GET of a MetaUrl or ErrorUrl: authorised by the link's own signature and expiry."""
        query = request.query_params
        try:
            return await run_in_threadpool(
                job_file,
                self.jobs,
                self.links,
                request.url.path,
                query.get("Expires", ""),
                query.get("Signature", ""),
            )
        except ApiError as error:
            return error_response(error, new_request_id(), request.headers.get("host", ""))

    def origin(self, request: Request) -> str:
        """Where links point: the configured public URL, else this server as the caller reached it."""
        return self.public_url or f"{request.url.scheme}://{request.headers.get('host', '')}"

    def _check_nonce(self, verified: Verified) -> None:
        """A nonce is good once while its timestamp is; only aliyunsdkcore's ROA requests carry none."""
        if verified.nonce is None:
            if verified.scheme != "ROA-HMAC-SHA1":
                raise ApiError(
                    "IncompleteSignature",
                    "The request signature is incomplete: it carries no signature nonce.",
                )
            return
        assert verified.signed_at is not None  # check_clock refused a request without a time
        expires_at = (verified.signed_at + self.max_skew).timestamp()
        if not self.nonces.first_use(verified.access_key_id, verified.nonce, expires_at):
            raise ApiError(
                "SignatureNonceUsed", f"Specified signature nonce was used already: {verified.nonce}"
            )

    def _context(self, request: Request, key: AccessKey) -> RequestContext:
        return RequestContext(key, self.uploads, self.region_id, self.origin(request))

    @staticmethod
    async def _call(family: Family, action: Callable[[], Body]) -> Body:
        """Run an action off the event loop, the domain's errors said as its protocol family says them."""
        try:
            return await run_in_threadpool(action)
        except LookalikeError as error:
            raise wire_error(error, family) from None


def _action_named(request: Request) -> str:
    """The action a request names: in its path (2019-03-25, the first protocol), else in `x-acs-action`
    (an RPC-signed request names it in its parameters, read once they are verified)."""
    path = request.url.path
    if path.startswith(("/v2/image/", "/item/")):
        return path.lstrip("/")
    return request.headers.get("x-acs-action", "")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to pass `limit` (before it is read whole)."""
    too_large = ApiError(
        "InvalidPicContent",
        f"The request body is larger than {limit} bytes: PicContent may hold at most 4 MB of picture",
    )
    return b"".join([chunk async for chunk in within(request, limit, too_large).stream()])


def within(request: Request, limit: int, too_large: ApiError) -> Request:
    """The request, its body refused with `too_large` as soon as it is known to pass `limit` bytes: at once
    by its Content-Length, else (chunked) when the bytes read pass it, so no more than that is ever held."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    size = 0

    async def receive() -> Message:
        nonlocal size
        message = await request.receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise too_large
        return message

    return Request(request.scope, receive)
