"""The wire side of bulk jobs: the actions DumpMeta, DumpMetaList, IncreaseInstance and IncreaseList, the file
formats (increment.meta lines in, metadata lines out), the files behind MetaUrl and ErrorUrl, and the call to
a job's CallbackAddress.

These four actions take every parameter in the query string, and answer with the console's type quirks:
`Data.Id` is a string, the list items' `Id` an integer, their `Code` a string, `UtcCreate` a string of
milliseconds and `UtcModified` an integer.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.responses import FileResponse, Response

from lookalike.api import responses
from lookalike.api.codes import code_of
from lookalike.api.errors import ApiError
from lookalike.api.handlers import Backends
from lookalike.api.links import Links
from lookalike.api.params import Params
from lookalike.api.responses import Body
from lookalike.service.job_table import Job
from lookalike.service.jobs import Jobs

log = logging.getLogger("lookalike.jobs")

INT64 = (-(2**63), 2**63 - 1)
CALLBACK_TIMEOUT_SECONDS = 10
MAX_CALLBACK = 2048
BAD_REQUEST = "Console.BadRequest"


# -- the actions ---------------------------------------------------------------------------------------------


def dump_meta(params: Params, on: Backends) -> Body:
    job = on.jobs.dump(_instance(params))
    return responses.success(None, Data={"Id": str(job.id), "DumpMetaStatus": job.status})


def dump_meta_list(params: Params, on: Backends) -> Body:
    jobs = on.jobs.find(_instance(params), "dump", job_id=_job_id(params))
    # The documented limits: PageSize below 500, PageNumber up to 500 (IncreaseList: the other way).
    page, data = _page(params, jobs, max_size=499, max_number=500)
    return {"Data": {**data, "DumpMetaList": [_dump_item(job, _link(params, on)) for job in page]}}


def increase_instance(params: Params, on: Backends) -> Body:
    instance = _instance(params)
    bucket, path = params.required("BucketName", BAD_REQUEST), params.required("Path", BAD_REQUEST)
    job = on.jobs.increase(instance, bucket, path, _callback(params))
    return responses.success(None, Data={"Id": str(job.id), "IncrementStatus": job.status})


def increase_list(params: Params, on: Backends) -> Body:
    jobs = on.jobs.find(
        _instance(params),
        "increment",
        job_id=_job_id(params),
        bucket=params.optional_text("BucketName"),
        path=params.optional_text("Path"),
    )
    page, data = _page(params, jobs, max_size=500, max_number=499)
    return {
        "Data": {
            **data,
            "Increments": {"Instance": [_increment_item(job, _link(params, on)) for job in page]},
        }
    }


def _instance(params: Params) -> str:
    return params.instance_name()  # refuses an instance the caller's key may not use


def _job_id(params: Params) -> int | None:
    return params.optional_integer("Id", BAD_REQUEST, low=INT64[0], high=INT64[1])


def _callback(params: Params) -> str:
    address = params.optional_text("CallbackAddress") or ""
    try:
        url = urlsplit(address)
        url.port  # noqa: B018 -- read to check it: a port out of range raises
        sound = url.scheme in ("http", "https") and bool(url.netloc) and len(address) <= MAX_CALLBACK
    except ValueError:  # e.g. "http://[::1": a bracket left open
        sound = False
    if address and not sound:
        raise ApiError(
            BAD_REQUEST,
            f"The request has invalid parameters: CallbackAddress must be an http(s) URL of at most "
            f"{MAX_CALLBACK} characters, not {address[:200]!r}",
        )
    return address


def _page(params: Params, jobs: list[Job], *, max_size: int, max_number: int) -> tuple[list[Job], Body]:
    number = params.integer("PageNumber", BAD_REQUEST, default=1, low=1, high=max_number)
    size = params.integer("PageSize", BAD_REQUEST, default=10, low=1, high=max_size)
    page = jobs[(number - 1) * size : number * size]
    return page, {"PageNumber": number, "PageSize": size, "TotalCount": len(jobs)}


def _common_item(job: Job) -> Body:
    return {
        "Id": job.id,
        "Status": job.status,
        "Code": code_of(job.code, "console").code,  # '0' while it runs and once it succeeded
        "UtcCreate": str(job.created_ms),
        "UtcModified": job.modified_ms,
    }


def _link(params: Params, on: Backends) -> Callable[[str], str]:
    """The signed URL of a path on this server, as the caller reached it."""
    return lambda path: on.links.url(params.context.origin, path)


def _dump_item(job: Job, link: Callable[[str], str]) -> Body:
    done = job.status == "SUCCESS"
    return {
        **_common_item(job),
        "Msg": f"success: {job.lines} images" if done else job.message or "processing",
        "MetaUrl": link(meta_path(job.id)) if done else "",
    }


def increment_fields(job: Job) -> Body:
    """An import job as IncreaseList and the callback show it. `Counts` is Lookalike's own addition
    (the SDK models ignore it); the same numbers are in `Msg` for the SDKs."""
    counts = f"{job.added} added, {job.deleted} deleted, {job.failed} failed"
    if job.status == "PROCESSING":
        msg = f"processing: {job.done} of {job.lines} lines done: {counts}"
    elif job.status == "SUCCESS":
        msg = f"success: {job.lines} lines: {counts}"
    else:
        msg = f"{job.message} (after {job.done} of {job.lines} lines: {counts})"
    return {
        **_common_item(job),
        "BucketName": job.bucket,
        "Path": job.path,
        "CallbackAddress": job.callback,
        "Msg": msg,
        "Counts": {
            "Lines": job.lines,
            "Done": job.done,
            "Added": job.added,
            "Deleted": job.deleted,
            "Failed": job.failed,
        },
    }


def _increment_item(job: Job, link: Callable[[str], str]) -> Body:
    error_url = link(errors_path(job.id)) if job.failed else ""
    return {**increment_fields(job), "ErrorUrl": error_url}


# -- the files -----------------------------------------------------------------------------------------------


def meta_path(job_id: int) -> str:
    return f"/jobs/{job_id}/meta.jsonl"


def errors_path(job_id: int) -> str:
    return f"/jobs/{job_id}/errors.jsonl"


def job_file(jobs: Jobs, links: Links, path: str, expires: str, signature: str) -> Response:
    """The export of a dump job, or the failed lines of an import, behind a link that expires."""
    links.check(path, expires, signature)
    job_id = int(path.split("/")[2])  # a path this server made: /jobs/ID/NAME
    job = jobs.get(job_id)
    if path == meta_path(job_id) and (export := jobs.dump_file(job_id)) is not None:
        return FileResponse(export, media_type="application/x-ndjson")
    if path == errors_path(job_id) and job is not None and job.kind == "increment":
        lines = (
            json.dumps(
                {"Line": e.line, "Code": code_of(e.code).code, "Message": e.message}, ensure_ascii=False
            )
            + "\n"
            for e in jobs.line_errors(job_id)
        )
        return Response("".join(lines), media_type="application/x-ndjson")
    raise ApiError("NoSuchKey", f"The specified key does not exist: {path}", 404)


def call_back(job: Job) -> None:
    """POST the finished import to its CallbackAddress; a failure is logged and changes nothing."""
    if job.kind != "increment" or not job.callback:
        return
    body = json.dumps({"InstanceName": job.instance, **increment_fields(job)}).encode()
    request = urllib.request.Request(
        job.callback, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_SECONDS):
            pass
    except (OSError, ValueError) as error:
        log.warning("callback of job %d to %s failed: %s", job.id, job.callback, error)


class CallBacks:
    """Calls back each import that ended with a CallbackAddress, on a thread of its own, as the jobs say."""

    def __init__(self, jobs: Jobs):
        self.jobs = jobs
        self._thread = threading.Thread(target=self._run, name="jobs-call-back", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2 * CALLBACK_TIMEOUT_SECONDS) -> None:
        """Once the jobs have stopped: the calls due are made, then the thread ends."""
        self.jobs.called_back.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self.jobs.called_back.get()) is not None:
            call_back(job)
