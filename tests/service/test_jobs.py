"""Bulk jobs on the real model and the embedded store: an import applies its meta lines once each, survives
a stop and a restart, and one job of a kind runs at a time per instance; an export lists every image."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lookalike.app import Components, build_components
from lookalike.config import Settings
from lookalike.datadir import Registration
from lookalike.domain.errors import BadInstanceName, BadJob, InstanceNotFound, JobRunning
from lookalike.service.job_table import Job
from lookalike.service.jobs import Jobs
from lookalike.service.models import Picture, SearchOptions
from tests.conftest import until


def meta(*lines: dict | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


@pytest.fixture
def bucket(tmp_path, photos) -> Path:
    """A bucket folder: photos in `shoes/`, with increment.meta beside them."""
    root = tmp_path / "bucket"
    (root / "shoes").mkdir(parents=True)
    for name in ("coffee", "rocket", "chelsea", "astronaut"):
        (root / "shoes" / f"{name}.jpg").write_bytes(photos[name])
    return root


@contextmanager
def opened(data: Path, bucket: Path) -> Iterator[Components]:
    """The server's components on `data`, as one process opens them; closed at the end."""
    components = build_components(Settings(data_dir=data, buckets={"shop": str(bucket)}))
    try:
        yield components
    finally:
        components.close()


@pytest.fixture
def components(tmp_path, bucket) -> Iterator[Components]:
    with opened(tmp_path / "data", bucket) as components:
        components.instances.create("shop")
        yield components


def stored(components: Components, instance: str = "shop") -> dict[tuple[str, str], dict]:
    return {
        (r.product_id, r.pic_name): {"int_attr": r.attributes.int_attr, "category_id": r.category_id}
        for r in components.service.records(instance)
    }


def wait(components: Components, job: Job, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while (job := components.jobs.get(job.id)).status == "PROCESSING":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_an_import_applies_each_line_and_records_why_one_failed(components, bucket):
    (bucket / "shoes" / "increment.meta").write_text(
        meta(
            {
                "OperationType": "ADD",
                "ProductId": "1",
                "PicName": "shoes/coffee.jpg",
                "CategoryId": 4,
                "IntAttr": 7,
            },
            {"OperationType": "ADD", "ProductId": "2", "PicName": "rocket.jpg"},  # beside increment.meta
            {"OperationType": "ADD", "ProductId": "3", "PicName": "shoes/missing.jpg"},
            {"OperationType": "ADD", "ProductId": "4", "PicName": "shoes/chelsea.jpg", "CategoryId": 10},
            "",
            "{not json",
            {"OperationType": "ADD", "ProductId": "5", "PicName": "shoes/chelsea.jpg"},
            {"OperationType": "ADD", "ProductId": "5", "PicName": "shoes/astronaut.jpg"},
            {"OperationType": "DELETE", "ProductId": "5", "PicName": "shoes/chelsea.jpg"},
        )
    )
    job = components.jobs.increase("shop", "shop", "/shoes/increment.meta", background=False)
    job = components.jobs.run(job.id)

    assert (job.status, job.lines, job.done) == ("SUCCESS", 9, 9)
    assert (job.added, job.deleted, job.failed) == (4, 1, 3)
    assert [(e.line, e.code) for e in components.jobs.line_errors(job.id)] == [
        (3, "DownloadFailed"), (4, "BadValue.category_id"), (6, "BadMetaLine"),
    ]  # fmt: skip
    assert stored(components) == {
        ("1", "shoes/coffee.jpg"): {"int_attr": 7, "category_id": 4},
        ("2", "rocket.jpg"): {"int_attr": 0, "category_id": 88888888},
        ("5", "shoes/astronaut.jpg"): {"int_attr": 0, "category_id": 88888888},
    }


def test_a_stopped_import_resumes_after_its_last_line(tmp_path, bucket, photos):
    lines = [{"OperationType": "ADD", "ProductId": f"p{i}", "PicName": "shoes/coffee.jpg"} for i in range(6)]
    lines[2] = {"OperationType": "ADD", "ProductId": "p2", "PicName": "shoes/missing.jpg"}
    (bucket / "increment.meta").write_text(meta(*lines))
    data = tmp_path / "data"
    with opened(data, bucket) as components:
        components.instances.create("shop")
        job = components.jobs.increase("shop", "shop", "/", background=False)
        stop_after_line_3 = lambda job: job.done == 3 and components.jobs.stop()  # noqa: E731
        job = components.jobs.run(job.id, stop_after_line_3)
        assert (job.status, job.done, job.added, job.failed) == ("PROCESSING", 3, 2, 1)

    # Lines already done are never read again: a changed picture does not reach p0 or p1.
    (bucket / "shoes" / "coffee.jpg").write_bytes(photos["rocket"])
    with opened(data, bucket) as components:
        components.jobs.resume()
        job = wait(components, job)
        assert (job.status, job.done, job.added, job.failed) == ("SUCCESS", 6, 5, 1)
        assert [e.line for e in components.jobs.line_errors(job.id)] == [3]
        found = components.service.search_by_pic("shop", Picture(photos["coffee"]), SearchOptions(num=10))
        assert {h.image.product_id for h in found.hits if h.score > 0.999} == {"p0", "p1"}


def test_a_job_is_taken_over_only_once_its_process_is_gone(components, tmp_path, bucket):
    """Another process's job is left alone while that process runs; once it has gone (stopped or killed:
    its registration's lock ends either way), the next `resume` runs the job here."""
    (bucket / "increment.meta").write_text(
        meta(
            *({"OperationType": "ADD", "ProductId": f"p{i}", "PicName": "shoes/coffee.jpg"} for i in range(3))
        )
    )
    data = tmp_path / "data"
    other = Registration(data)  # as the job table sees it, another process
    service, buckets = components.service, components.jobs.buckets
    theirs = Jobs(data / "jobs", other, service, buckets, wal=True)  # one machine
    job = theirs.increase("shop", "shop", "/", background=False)
    components.jobs.resume()
    assert components.jobs.get(job.id).owner == other.id

    other.close()
    components.jobs.resume()
    job = wait(components, job)
    assert (job.status, job.owner, job.done, job.added) == ("SUCCESS", components.process.id, 3, 3)
    theirs.close()


def test_one_import_at_a_time_per_instance(components, bucket):
    (bucket / "increment.meta").write_text(meta({"OperationType": "DELETE", "ProductId": "x"}))
    components.instances.create("other")
    first = components.jobs.increase("shop", "shop", "/", background=False)
    with pytest.raises(JobRunning) as busy:
        components.jobs.increase("shop", "shop", "/")
    assert busy.value.kind == "JobRunning.increment"
    assert f"job {first.id}" in busy.value.message
    assert wait(components, components.jobs.increase("other", "shop", "/")).status == "SUCCESS"
    assert components.jobs.run(first.id).status == "SUCCESS"
    assert wait(components, components.jobs.increase("shop", "shop", "/")).status == "SUCCESS"


def test_an_export_waits_for_a_running_import_then_lists_every_image(components, bucket):
    (bucket / "increment.meta").write_text(
        meta(
            *(
                {"OperationType": "ADD", "ProductId": n, "PicName": f"shoes/{n}.jpg"}
                for n in ("coffee", "rocket")
            )
        )
    )
    importing = components.jobs.increase("shop", "shop", "/", background=False)
    export = components.jobs.dump("shop")
    with pytest.raises(JobRunning) as busy:
        components.jobs.dump("shop")
    assert busy.value.kind == "JobRunning.dump"
    time.sleep(0.5)
    assert components.jobs.get(export.id).status == "PROCESSING"

    components.jobs.run(importing.id)
    export = wait(components, export)
    assert (export.status, export.lines) == ("SUCCESS", 2)
    exported = [json.loads(line) for line in components.jobs.dump_file(export.id).read_text().splitlines()]
    assert sorted((e["ProductId"], e["PicName"]) for e in exported) == [
        ("coffee", "shoes/coffee.jpg"), ("rocket", "shoes/rocket.jpg"),
    ]  # fmt: skip


def test_an_import_whose_meta_file_went_away_fails_says_why_and_is_called_back(components, bucket):
    (bucket / "increment.meta").write_text(meta({"OperationType": "DELETE", "ProductId": "x"}))
    callback = "http://127.0.0.1:9/done"
    job = components.jobs.increase("shop", "shop", "/", callback, background=False)
    (bucket / "increment.meta").unlink()
    job = components.jobs.run(job.id)
    assert (job.status, job.code) == ("FAIL", "BadJob")
    assert "has no /increment.meta" in job.message
    assert components.jobs.called_back.get_nowait() == job  # for api/jobs.py's CallBacks to call
    assert components.jobs.called_back.empty()


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        (lambda jobs: jobs.increase("shop", "shop", "/nothing/here"), BadJob),
        (lambda jobs: jobs.increase("shop", "nobucket", "/"), BadJob),
        (lambda jobs: jobs.increase("nosuch", "shop", "/"), InstanceNotFound),
        (lambda jobs: jobs.dump("nosuch"), InstanceNotFound),
        (lambda jobs: jobs.find("bad name!", "dump"), BadInstanceName),
    ],
)
def test_a_job_that_cannot_start_is_refused(components, call, refusal):
    with pytest.raises(refusal):
        call(components.jobs)
    assert components.jobs.find("shop", "increment") == []


def test_an_import_line_waits_for_room_to_decode_instead_of_failing(components, bucket):
    """Requests that find the decode budget full are refused after a while; an import's line is not."""
    line = {"OperationType": "ADD", "ProductId": "1", "PicName": "shoes/coffee.jpg"}
    (bucket / "increment.meta").write_text(meta(line))
    budget = components.service.vision.budget
    budget.wait_seconds = 0  # every decode that finds it full is refused at once
    job = components.jobs.increase("shop", "shop", "/", background=False)
    ran: list[Job] = []
    with budget.hold(budget.limit_bytes):  # big pictures of other requests take it all
        importing = threading.Thread(target=lambda: ran.append(components.jobs.run(job.id)))
        importing.start()
        until(lambda: budget.denied >= 3)  # refused, and tried again
    importing.join()
    (job,) = ran
    assert (job.status, job.added, job.failed) == ("SUCCESS", 1, 0)
    assert stored(components) == {("1", "shoes/coffee.jpg"): {"int_attr": 0, "category_id": 88888888}}
