"""Render the one error type as the JSON error body every official SDK parses."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.responses import JSONResponse, Response

from lookalike.errors import LookalikeError

RECOMMEND = "See docs/actions.md in Lookalike for the parameters and limits of each action."


def error_response(error: LookalikeError, request_id: str, host_id: str) -> JSONResponse:
    headers = {"x-acs-request-id": request_id}
    if error.retry_after_ms is not None:
        # Any 4xx/5xx with this header makes the SDK raise its ThrottlingException.
        headers["x-acs-retry-after"] = str(error.retry_after_ms)
    body = {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": RECOMMEND,
    }
    return JSONResponse(body, status_code=error.status, headers=headers)


def oss_error_response(error: LookalikeError, request_id: str, host_id: str) -> Response:
    """The upload leg of *_advance talks to what the SDK takes for OSS, which answers errors in XML."""
    parts = {"Code": error.code, "Message": error.message, "RequestId": request_id, "HostId": host_id}
    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in parts.items())
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{body}</Error>',
        status_code=error.status,
        media_type="application/xml",
        headers={"x-oss-request-id": request_id},
    )
