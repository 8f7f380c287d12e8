"""`lookalike import`: the IncreaseInstance job, run from the command line with a progress bar.

One process owns a data directory. Without a server, the command opens it and runs the job here; with a
server running on it, the command hands the job to that server over HTTP (signed with the server's key)
and follows it there. Either way the job is the same row of the job table, listed by IncreaseList.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TextIO

from lookalike.client import Client
from lookalike.config import SERVER_FILE, Settings, load_access_keys
from lookalike.errors import LookalikeError
from lookalike.service.buckets import parse_bucket_option
from lookalike.service.job_table import Job

POLL_SECONDS = 0.5
INTERRUPTED = "Interrupted (Ctrl-C): run the import again; its lines are safe to apply twice"
SHOWN_ERRORS = 20


def run(args: argparse.Namespace) -> int:
    from lookalike.app import build_components
    from lookalike.store.qdrant_edge import DataDirectoryLocked

    try:
        buckets = dict(parse_bucket_option(option) for option in args.bucket)
        # SOURCE is a bucket named by --bucket, or a folder or s3:// URI, which names itself.
        components = build_components(
            Settings(data_dir=args.data, buckets={args.source: args.source, **buckets})
        )
    except DataDirectoryLocked:
        return _through_server(args, buckets)
    except ValueError as error:  # a bucket that cannot be opened
        return _refuse(str(error))
    jobs = components.jobs
    try:
        job = jobs.increase(args.instance, args.source, args.path, args.callback or "", background=False)
        try:
            print(f"import job {job.id}: {args.source} {args.path} into {args.instance}", flush=True)
            job = jobs.run(job.id, lambda job: show_progress(_counts(job)))
        except KeyboardInterrupt:
            job = jobs.table.update(job.id, status="FAIL", code="Interrupted", message=INTERRUPTED)
        end_progress()
        errors = [(e.line, e.code, e.message) for e in jobs.line_errors(job.id)]
        return _report(job.status, _counts(job), job.message, errors)
    except LookalikeError as error:
        if error.code == "Console.IncrementStatusError":  # nobody runs it: this process owns the data
            return _refuse(f"{error.message}: it was cut short, and `lookalike serve` resumes it")
        return _refuse(error.message)
    finally:
        components.close()


def _through_server(args: argparse.Namespace, buckets: dict[str, str]) -> int:
    server_file = args.data / SERVER_FILE
    if not server_file.exists():
        return _refuse(f"another process holds {args.data}, and it is not a Lookalike server")
    url = json.loads(server_file.read_text())["url"]
    if buckets or os.sep in args.source or "://" in args.source:
        return _refuse(
            f"a server runs on {args.data} ({url}) and reads only its own buckets: give the NAME of one "
            "it was started with (lookalike serve --bucket NAME=DIR), or stop it to import from here"
        )
    keys, _ = load_access_keys(args.data, create=False)
    if not keys.secrets:
        return _refuse("no access key to call the server with: set LOOKALIKE_ACCESS_KEY_ID and _SECRET")
    client = Client(url, *next(iter(keys.secrets.items())))
    try:
        data = client.call(
            "IncreaseInstance",
            InstanceName=args.instance,
            BucketName=args.source,
            Path=args.path,
            CallbackAddress=args.callback,
        )["Data"]
        print(f"import job {data['Id']} handed to the server at {url}", flush=True)
        while True:
            answer = client.call("IncreaseList", InstanceName=args.instance, Id=data["Id"])
            (item,) = answer["Data"]["Increments"]["Instance"]
            counts = tuple(item["Counts"][name] for name in ("Done", "Lines", "Added", "Deleted", "Failed"))
            show_progress(counts)
            if item["Status"] != "PROCESSING":
                break
            time.sleep(POLL_SECONDS)
        end_progress()
        errors = []
        if item["ErrorUrl"]:
            for text in client.get_text(item["ErrorUrl"]).splitlines():
                error = json.loads(text)
                errors.append((error["Line"], error["Code"], error["Message"]))
        message = item["Msg"] if item["Status"] == "FAIL" else ""
        return _report(item["Status"], counts, message, errors)
    except LookalikeError as error:
        return _refuse(error.message)


Counts = tuple[int, int, int, int, int]  # done, lines, added, deleted, failed


def _counts(job: Job) -> Counts:
    return job.done, job.lines, job.added, job.deleted, job.failed


def show_progress(counts: Counts, out: TextIO = sys.stderr, width: int = 30) -> None:
    """A one-line bar, redrawn in place on a terminal (and left out of logs)."""
    if not out.isatty():
        return
    done, lines, added, deleted, failed = counts
    filled = width * done // lines if lines else 0
    bar = "#" * filled + "." * (width - filled)
    out.write(f"\r[{bar}] {done}/{lines} lines: {added} added, {deleted} deleted, {failed} failed")
    out.flush()


def end_progress(out: TextIO = sys.stderr) -> None:
    if out.isatty():
        out.write("\n")


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
