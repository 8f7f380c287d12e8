"""The data directory as several processes share it: who runs on it, locks that exclude every thread of
every process, databases every thread of a process shares, and files that appear whole."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from lookalike.datadir import (
    PROCESSES_DIR,
    Database,
    NamedLocks,
    Registration,
    live_processes,
    open_database,
    write_whole,
    written_whole,
)
from tests.processes import in_processes


def registered_until_killed(data, ready) -> None:
    registration = Registration(data, "http://127.0.0.1:1")
    ready.put(registration.id)
    time.sleep(600)


def test_a_process_is_seen_while_it_runs_and_not_once_it_was_killed(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    child = context.Process(target=registered_until_killed, args=(tmp_path, ready))
    child.start()
    try:
        child_id = ready.get(timeout=60)
        me = Registration(tmp_path)
        assert [(p.id, p.url, p.pid) for p in live_processes(tmp_path)] == [
            (child_id, "http://127.0.0.1:1", child.pid), (me.id, None, me.process.pid),
        ]  # fmt: skip
        assert me.is_alive(child_id) and me.is_alive(me.id)
    finally:
        child.kill()  # no chance to unregister: the lock ends with the process all the same
        child.join()
    assert not me.is_alive(child_id)
    assert [p.id for p in live_processes(tmp_path)] == [me.id]
    assert sorted(path.stem for path in (tmp_path / PROCESSES_DIR).iterdir()) == [me.id]  # removed
    me.close()
    assert live_processes(tmp_path) == [] and not me.is_alive("no-such-process")


def count_under_the_lock(root, counter, times: int) -> None:
    """Two threads of this process add one to the counter file `times` times each, reading and writing it
    under the lock, slowly enough that an unlocked read would meet another's write."""
    locks = NamedLocks(root)

    def add() -> None:
        for _ in range(times):
            with locks.hold("shop"):
                value = int(counter.read_text())
                time.sleep(0.001)
                counter.write_text(str(value + 1))

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    locks.close()


def test_a_named_lock_excludes_every_thread_of_every_process(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    in_processes(count_under_the_lock, [(tmp_path / "locks", counter, 25)] * 3)
    assert counter.read_text() == str(3 * 2 * 25)


def test_locks_of_different_names_do_not_wait_for_each_other(tmp_path):
    locks, held = NamedLocks(tmp_path), threading.Event()

    def hold_b() -> None:
        with locks.hold("b"):
            held.set()

    with locks.hold("a"):
        threading.Thread(target=hold_b).start()
        assert held.wait(5)


def open_new_databases_in_step(root, wal: bool, barrier, count: int) -> int:
    try:
        for index in range(count):
            barrier.wait(timeout=60)  # every process opens the same new file at the same moment
            open_database(root / f"{index}.sqlite3", wal, schema="CREATE TABLE IF NOT EXISTS t (a)").close()
    except BaseException:
        barrier.abort()  # the others stop waiting for this one
        raise
    return count


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_processes_opening_a_new_database_at_once_all_get_it(tmp_path, wal):
    processes, count = 4, 30
    barrier = multiprocessing.get_context("spawn").Barrier(processes)
    opened = in_processes(open_new_databases_in_step, [(tmp_path, wal, barrier, count)] * processes)
    assert opened == [count] * processes


def test_a_file_written_whole_appears_only_when_complete(tmp_path):
    target = tmp_path / "new" / "state.json"
    with written_whole(target) as file:
        file.write(b"half")
        assert not target.exists()
        file.write(b" and the rest")
    assert target.read_bytes() == b"half and the rest"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]  # no temporary file left


def test_a_file_whose_writing_failed_leaves_the_old_one_and_no_leftovers(tmp_path):
    target = tmp_path / "state.json"
    write_whole(target, b"old")
    with pytest.raises(RuntimeError), written_whole(target) as file:
        file.write(b"new, but cut short")
        raise RuntimeError("disk gone")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_an_exclusive_file_is_written_once_and_with_its_mode(tmp_path):
    target = tmp_path / "key"
    write_whole(target, b"first", mode=0o600, exclusive=True)
    with pytest.raises(FileExistsError):
        write_whole(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key"]


def test_a_database_transaction_commits_whole_or_not_at_all(tmp_path):
    db = Database(tmp_path / "t.sqlite3", wal=False, schema="CREATE TABLE IF NOT EXISTS t (a)")
    with db.transaction() as connection:
        connection.execute("INSERT INTO t VALUES (1)")
        connection.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(ValueError), db.transaction() as connection:
        connection.execute("INSERT INTO t VALUES (3)")
        raise ValueError("changed my mind")
    with db.connection() as connection:
        assert [a for (a,) in connection.execute("SELECT a FROM t ORDER BY a")] == [1, 2]
    db.close()
