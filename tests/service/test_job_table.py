"""The job table shared by every process on the data directory: a job has one owner; only the owner
records its progress, and of several processes that take over a gone owner's job, one gets it."""

from __future__ import annotations

import sqlite3

import pytest

from lookalike.service.job_table import JobTable, NotOwner
from tests.processes import in_processes


def test_only_the_owner_records_progress(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    mine, theirs = JobTable(path, "me"), JobTable(path, "them")
    job = mine.create("increment", "shop", bucket="b", path="/")
    assert job.owner == "me"
    with pytest.raises(NotOwner):
        theirs.record(job.id, 1, "added")
    with pytest.raises(NotOwner):
        theirs.update(job.id, status="FAIL")
    assert mine.record(job.id, 1, "added").added == 1
    assert theirs.claim(job.id, "somebody-else") is None  # not the owner it names
    assert theirs.claim(job.id, "me").owner == "them"
    with pytest.raises(NotOwner):
        mine.record(job.id, 2, "added")
    assert theirs.update(job.id, status="SUCCESS").status == "SUCCESS"
    assert mine.claim(job.id, "them") is None  # a finished job is nobody's to take


def claim_in_a_process(path, job_id: int, owner: str) -> bool:
    return JobTable(path, owner).claim(job_id, "gone") is not None


def test_of_several_processes_taking_over_a_job_one_gets_it(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    job = JobTable(path, "gone").create("dump", "shop")
    taken = in_processes(claim_in_a_process, [(path, job.id, f"p{i}") for i in range(4)])
    assert taken.count(True) == 1
    assert JobTable(path, "x").get(job.id).owner == f"p{taken.index(True)}"


def test_a_table_older_than_owners_gets_the_column(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, instance TEXT NOT NULL,"
        " status TEXT NOT NULL, code TEXT NOT NULL DEFAULT '0', message TEXT NOT NULL DEFAULT '',"
        " bucket TEXT NOT NULL DEFAULT '', path TEXT NOT NULL DEFAULT '', callback TEXT NOT NULL DEFAULT '',"
        " created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, lines INTEGER NOT NULL DEFAULT 0,"
        " done INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL DEFAULT 0,"
        " deleted INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO jobs (kind, instance, status, created_ms, modified_ms) VALUES"
        " ('increment', 'shop', 'PROCESSING', 1, 1);"
    )
    db.close()
    table = JobTable(path, "me")
    (job,) = table.select(status="PROCESSING")
    assert job.owner == ""  # nobody's: the first process to look takes it over
    assert table.claim(job.id, "").owner == "me"
