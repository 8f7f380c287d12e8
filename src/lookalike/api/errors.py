"""Errors as the wire says them: ApiError (a code, a message, an HTTP status), rendered as the JSON error body
every official SDK parses; and answered in that form, what the routes never see: a path or method the API
does not have, and an error nobody expected. The domain's errors become ApiErrors through `codes`."""

from __future__ import annotations

import logging
import uuid
from xml.sax.saxutils import escape

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("lookalike.api")

RECOMMEND = "See docs/actions.md in Lookalike for the parameters and limits of each action."


class ApiError(Exception):
    """An error in the wire's terms: its documented code, what was wrong, its HTTP status; `retry_after_ms`
    makes the SDKs wait and retry."""

    def __init__(self, code: str, message: str, status: int = 400, retry_after_ms: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.retry_after_ms = retry_after_ms


INTERNAL = ApiError("InternalError", "An internal server error occurred: see the server log", 500)


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def no_such_action(path: str) -> ApiError:
    return ApiError(
        "InvalidAction.NotFound",
        f"Specified api is not found, please check your url and method: {path[:200]}",
        404,
    )


def error_response(error: ApiError, request_id: str, host_id: str) -> JSONResponse:
    headers = {"x-acs-request-id": request_id}
    if error.retry_after_ms is not None:
        # Any 4xx/5xx with this header makes the SDK raise its ThrottlingException.
        headers["x-acs-retry-after"] = str(error.retry_after_ms)
    return JSONResponse(error_body(error, request_id, host_id), status_code=error.status, headers=headers)


def error_body(error: ApiError, request_id: str, host_id: str) -> dict[str, str]:
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": RECOMMEND,
    }


def oss_error_response(error: ApiError, request_id: str, host_id: str) -> Response:
    """The upload leg of *_advance talks to what the SDK takes for OSS, which answers errors in XML."""
    parts = {"Code": error.code, "Message": error.message, "RequestId": request_id, "HostId": host_id}
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in parts.items())
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{body}</Error>',
        status_code=error.status,
        media_type="application/xml",
        headers={"x-oss-request-id": request_id},
    )


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such path; a method the path does not take) in the API's form."""
    assert isinstance(error, HTTPException)
    path, headers = request.url.path, error.headers or {}
    if error.status_code == 404:
        mine = no_such_action(path)
    elif error.status_code == 405:
        mine = ApiError(
            "UnsupportedHTTPMethod",
            f"The HTTP method is not supported: {path[:200]} takes {headers.get('Allow')}, "
            f"not {request.method[:20]}",
            405,
        )
    else:
        mine = ApiError("BadRequest", f"The request is not valid: {error.detail}", error.status_code)
    answer = error_response(mine, new_request_id(), request.headers.get("host", ""))
    answer.headers.update(headers)  # Allow, for a 405
    return answer


class LastResort:
    """The outermost guard: an error nobody expected is logged once, with its traceback, and answered as a
    JSON InternalError. A client that went away mid-request is no error: the route reading its body logs
    one short line for it (an action's request line, or the upload's), no traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except ClientDisconnect:  # the route that was reading the body logged its one line
            pass
        except Exception:
            request_id = new_request_id()
            log.exception("request %s failed", request_id)
            if not started:
                answer = error_response(INTERNAL, request_id, Headers(scope=scope).get("host", ""))
                await answer(scope, receive, send)
