"""Render the one error type as the JSON error body every official SDK parses."""

from __future__ import annotations

from starlette.responses import JSONResponse

from lookalike.errors import LookalikeError

RECOMMEND = "See the Lookalike README for the parameters and limits of each action."


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
