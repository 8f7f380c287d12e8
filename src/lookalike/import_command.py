"""`lookalike import`: the IncreaseInstance job, run from the command line with a progress bar.

If a server runs on the data directory on this machine, the command hands the job to it over HTTP (signed
with the server's key) and follows it there; with several, to the first that answers, and if that one goes
away mid-job, it follows the job on another (which takes the job over). Otherwise the command opens the data
directory and runs the job here. Either way the job is the same row of the job table, listed by IncreaseList.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from lookalike.access_keys import load_access_keys
from lookalike.api.codes import code_of
from lookalike.api.errors import ApiError
from lookalike.api.jobs import call_back
from lookalike.client import Client
from lookalike.config import Settings
from lookalike.datadir import Process, live_processes
from lookalike.domain.errors import JobRunning, LookalikeError
from lookalike.progress import Progress
from lookalike.service.job_table import Job
from lookalike.service.jobs import Jobs

POLL_SECONDS = 0.5
INTERRUPTED = "Interrupted (Ctrl-C): run the import again; its lines are safe to apply twice"
SHOWN_ERRORS = 20
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run(args: argparse.Namespace) -> int:
    from lookalike.app import build_components
    from lookalike.store.qdrant_edge import DataDirectoryLocked

    buckets: dict[str, str] = args.bucket
    if servers := local_servers(args):
        return _through_server(args, buckets, servers)
    try:
        # SOURCE is a bucket named by --bucket, or a folder or s3:// URI, which names itself.
        components = build_components(
            Settings(data_dir=args.data, store_uri=args.store, buckets={args.source: args.source, **buckets})
        )
    except DataDirectoryLocked:
        return _refuse(f"another process holds {args.data}, and it is not a Lookalike server")
    except ValueError as error:  # a bucket or a store that cannot be opened
        return _refuse(str(error))
    jobs = components.jobs
    try:
        job = jobs.increase(args.instance, args.source, args.path, args.callback or "", background=False)
        job = _run_here(jobs, job.id, f"import job {job.id}: {args.source} {args.path} into {args.instance}")
        if job.status != "PROCESSING":  # it ended here (not taken over by a server)
            call_back(job)
        errors = [(e.line, code_of(e.code).code, e.message) for e in jobs.line_errors(job.id)]
        return _report(job.status, _counts(job), job.message, errors)
    except JobRunning as error:
        return _refuse(
            f"{error.message}: another `lookalike import` runs it, or it was cut short and "
            "`lookalike serve` takes it over"
        )
    except LookalikeError as error:
        return _refuse(error.message)
    finally:
        components.close()


def _run_here(jobs: Jobs, job_id: int, announcement: str) -> Job:
    """Announce the job and run it here to its end. The first Ctrl-C or SIGTERM stops it after the line it is
    on (no line is cut in two) and fails it as Interrupted; a second one ends the command at once."""
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if stopping:
            raise KeyboardInterrupt
        stopping = True
        jobs.stop()

    with on_signals(stop, *STOP_SIGNALS):
        print(announcement, flush=True)  # heard from here on: a signal sent on seeing it stops the job
        progress = Progress("import", "line")
        try:
            job = jobs.run(job_id, lambda job: show_progress(progress, _counts(job)))
        finally:
            progress.close()
    if job.status == "PROCESSING":  # stopped before its end
        job = jobs.table.update(job_id, status="FAIL", code="Interrupted", message=INTERRUPTED)
    return job


@contextlib.contextmanager
def on_signals(handler: Callable[[], None], *signals: signal.Signals) -> Iterator[None]:
    """While the block runs, `handler()` runs (in the main thread, between two steps of Python) on these
    signals, whatever the process inherited: a shell starts a command in the background with SIGINT ignored,
    and the import would then run on through a Ctrl-C or a `kill -INT`."""
    previous = {number: signal.signal(number, lambda signum, frame: handler()) for number in signals}
    try:
        yield
    finally:
        for number, former in previous.items():
            signal.signal(number, former)


def _interrupt() -> None:
    raise KeyboardInterrupt


def local_servers(args: argparse.Namespace) -> list[Process]:
    """The servers running on the data directory that this machine reaches at their address."""
    host = socket.gethostname()
    return [p for p in live_processes(args.data) if p.url and p.host == host]


def _through_server(args: argparse.Namespace, buckets: dict[str, str], servers: list[Process]) -> int:
    where = ", ".join(str(server.url) for server in servers)
    if buckets or os.sep in args.source or "://" in args.source:
        return _refuse(
            f"a server runs on {args.data} ({where}) and reads only its own buckets: give the NAME of one "
            "it was started with (lookalike serve --bucket NAME=DIR), or stop it to import from here"
        )
    keys, _ = load_access_keys(args.data, create=False)
    if not keys.secrets:
        return _refuse("no access key to call the server with: set LOOKALIKE_ACCESS_KEY_ID and _SECRET")
    key = next(iter(keys.secrets.items()))
    job_id: str | None = None
    unreachable: set[str | None] = set()
    try:
        with on_signals(_interrupt, *STOP_SIGNALS):
            while True:
                reachable = [s for s in local_servers(args) if s.url not in unreachable]
                if not reachable:
                    what = "nothing done" if job_id is None else "the job goes on where it is taken over"
                    return _refuse(f"no server on {args.data} answers ({where}): {what}")
                client = Client(str(reachable[0].url), *key)
                try:
                    if job_id is None:
                        job_id = _submit(client, args)
                        print(f"import job {job_id} handed to the server at {client.url}", flush=True)
                    item = _follow(client, args.instance, job_id)
                    break
                except OSError:  # not listening (yet, or any more): another one
                    unreachable.add(client.url)
        errors = []
        if item["ErrorUrl"]:
            for text in client.get_text(item["ErrorUrl"]).splitlines():
                error = json.loads(text)
                errors.append((error["Line"], error["Code"], error["Message"]))
        message = item["Msg"] if item["Status"] == "FAIL" else ""
        return _report(item["Status"], _item_counts(item), message, errors)
    except ApiError as error:
        return _refuse(error.message)
    except KeyboardInterrupt:  # the job is the server's: it goes on
        what = "nothing handed over" if job_id is None else f"job {job_id} goes on at the server"
        _refuse(f"stopped following: {what} (IncreaseList shows it)")
        return 130


def _submit(client: Client, args: argparse.Namespace) -> str:
    params = {"BucketName": args.source, "Path": args.path, "CallbackAddress": args.callback}
    return str(client.call("IncreaseInstance", InstanceName=args.instance, **params)["Data"]["Id"])


def _follow(client: Client, instance: str, job_id: str) -> dict[str, Any]:
    """The job's IncreaseList item once it ended, showing its progress meanwhile."""
    progress = Progress("import", "line")
    try:
        while True:
            answer = client.call("IncreaseList", InstanceName=instance, Id=job_id)
            item: dict[str, Any]
            (item,) = answer["Data"]["Increments"]["Instance"]
            show_progress(progress, _item_counts(item))
            if item["Status"] != "PROCESSING":
                return item
            time.sleep(POLL_SECONDS)
    finally:
        progress.close()


Counts = tuple[int, int, int, int, int]  # done, lines, added, deleted, failed


def _counts(job: Job) -> Counts:
    return job.done, job.lines, job.added, job.deleted, job.failed


def _item_counts(item: dict[str, Any]) -> Counts:
    """The counts of an IncreaseList item."""
    counts = item["Counts"]
    return counts["Done"], counts["Lines"], counts["Added"], counts["Deleted"], counts["Failed"]


def show_progress(progress: Progress, counts: Counts) -> None:
    done, lines, added, deleted, failed = counts
    progress.show(done, lines or None, f"{added} added, {deleted} deleted, {failed} failed")


def _report(status: str, counts: Counts, message: str, errors: list[tuple[int, str, str]]) -> int:
    done, lines, added, deleted, failed = counts
    print(f"{status}: {done} of {lines} lines: {added} added, {deleted} deleted, {failed} failed")
    if message:
        print(message)
    for line, code, text in errors[:SHOWN_ERRORS]:
        print(f"  line {line}: {code}: {text}")
    if len(errors) > SHOWN_ERRORS:
        print(f"  ... and {len(errors) - SHOWN_ERRORS} more (IncreaseList gives their ErrorUrl)")
    return 0 if status == "SUCCESS" and not failed else 1


def _refuse(message: str) -> int:
    print(f"lookalike import: {message}", file=sys.stderr)
    return 2
