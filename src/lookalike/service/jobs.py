"""Bulk jobs of an instance: an export of its metadata (DumpMeta), an import from a bucket (IncreaseInstance).

Jobs are rows of the job table, so that they outlive the process; their files are in `DATA/jobs/<id>/`.
An import first copies the bucket's increment.meta there, then applies it line by line: each line's outcome
(its counts, its error) is committed in one transaction with the job's progress, and a resumed job starts
after the last committed line. A crash between the store's write and that commit only means the line is
applied again, which changes nothing (ADD overwrites by key, DELETE of a deleted image deletes nothing), and
the counts and the error list, which come from committed lines only, never count a line twice.

One job of each kind runs at a time per instance. Jobs run on their own threads; `close` lets each finish
its current line and leaves it PROCESSING, to be resumed by the next `resume`.

Several processes share the job table (the servers of one catalog on Milvus, and `lookalike import`). A job
belongs to the process that made it, and runs there only; `resume` takes over the unfinished jobs of
processes that are gone, and a server looks for such jobs every second (`watch`). Only the owner records
progress, so a line is counted once even if a process lost its job while applying it.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from lookalike.datadir import Registration, written_whole
from lookalike.domain.errors import BadJob, DownloadFailed, JobRunning, LookalikeError
from lookalike.formats import export_line, parse_meta_line
from lookalike.service.buckets import META_FILE, Bucket, Buckets, folder_of
from lookalike.service.images import ImageService
from lookalike.service.instances import check_name
from lookalike.service.job_table import AlreadyRunning, Job, JobTable, Kind, LineError, NotOwner, Outcome
from lookalike.service.models import AddImage, Picture
from lookalike.vision.budget import DecodeBusy
from lookalike.vision.decode import MAX_PIC_BYTES

log = logging.getLogger("lookalike.jobs")

DUMP_FILE = "meta.jsonl"
IMPORT_POLL_SECONDS = 0.2  # how often a waiting export looks whether the import ended
WATCH_SECONDS = 1.0  # how often a server looks for jobs whose process is gone


class _Stopped(Exception):
    """The job was asked to stop; it stays PROCESSING and resumes later."""


class Jobs:
    def __init__(
        self,
        root: Path,
        process: Registration,
        images: ImageService,
        buckets: Buckets,
        *,
        wal: bool = False,
    ):
        """The jobs this makes or takes over belong to `process`; `wal`: see `datadir.open_database`."""
        self.root = root
        self.process = process
        self.images = images
        self.buckets = buckets
        # Imports that ended with a CallbackAddress, for whoever calls them back (api/jobs.py), in order;
        # a None says that no more will come.
        self.called_back: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        root.mkdir(parents=True, exist_ok=True)
        self.table = JobTable(root / "jobs.sqlite3", process.id, wal=wal)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    # -- submitting and listing ----------------------------------------------------------------------------

    def dump(self, instance: str) -> Job:
        """Start an export of every image's metadata."""
        self._check_instance(instance)
        job = self._create("dump", instance, "A task that is in progress already exists")
        return self._launch(job)

    def increase(
        self, instance: str, bucket: str, path: str, callback: str = "", *, background: bool = True
    ) -> Job:
        """Start an import of the increment.meta in folder `path` of `bucket`."""
        self._check_instance(instance)
        key = folder_of(path) + META_FILE
        if not self.buckets.get(bucket).exists(key):
            raise BadJob(f"The request has invalid parameters: bucket {bucket!r} has no /{key}")
        job = self._create(
            "increment",
            instance,
            "Current Increment status not supported this operate",
            bucket=bucket,
            path=path,
            callback=callback,
        )
        return self._launch(job) if background else job

    def find(
        self,
        instance: str,
        kind: Kind,
        *,
        job_id: int | None = None,
        bucket: str | None = None,
        path: str | None = None,
    ) -> list[Job]:
        """The instance's jobs of this kind, newest first; `path` matches any form naming the same folder."""
        self._check_instance(instance)
        equal = {"id": job_id, "bucket": bucket}
        jobs = self.table.select(
            instance=instance, kind=kind, **{k: v for k, v in equal.items() if v is not None}
        )
        if path is not None:
            folder = folder_of(path)
            jobs = [job for job in jobs if folder_of(job.path) == folder]
        return jobs

    def get(self, job_id: int) -> Job | None:
        return self.table.get(job_id)

    def line_errors(self, job_id: int) -> list[LineError]:
        return self.table.line_errors(job_id)

    def dump_file(self, job_id: int) -> Path | None:
        """The export of a finished dump job."""
        job = self.get(job_id)
        path = self._dir(job_id) / DUMP_FILE
        return path if job and job.kind == "dump" and job.status == "SUCCESS" and path.exists() else None

    # -- running -------------------------------------------------------------------------------------------

    def resume(self) -> None:
        """Run, in the background, every unfinished job whose process is gone (stopped, or killed)."""
        for job in reversed(self.table.select(status="PROCESSING")):
            if self._stopping.is_set():
                return
            if self.process.is_alive(job.owner) or not (claimed := self.table.claim(job.id, job.owner)):
                continue
            log.info(
                "taking over %s job %d of instance %s after line %d", job.kind, job.id, job.instance, job.done
            )
            self._launch(claimed)

    def watch(self) -> None:
        """`resume` now and every WATCH_SECONDS until `close`, in the background."""

        def watching() -> None:
            while True:
                try:
                    self.resume()
                except Exception:  # the job table is out of reach for now: look again later
                    log.exception("looking for jobs to take over")
                if self._stopping.wait(WATCH_SECONDS):
                    return

        self._watcher = threading.Thread(target=watching, name="jobs-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Ask every running job to stop after its current line (it resumes on the next start)."""
        self._stopping.set()

    def close(self, timeout: float = 30) -> None:
        self.stop()
        if self._watcher:
            self._watcher.join(timeout)  # first: it might launch a job
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        self.table.close()

    def run(self, job_id: int, progress: Callable[[Job], None] = lambda job: None) -> Job:
        """Run a job to its end here, or until `close`; `progress` hears of each line done."""
        job = self._current(job_id)
        assert job.status == "PROCESSING", job
        try:
            self._run_to_end(job, progress)
        except _Stopped:
            return self._current(job_id)
        except NotOwner:
            log.warning("%s job %d was taken over by another process", job.kind, job.id)
            return self._current(job_id)
        job = self._current(job_id)
        if job.kind == "increment" and job.callback:
            self.called_back.put(job)
        return job

    def _run_to_end(self, job: Job, progress: Callable[[Job], None]) -> None:
        try:
            if job.kind == "dump":
                self._dump(job)
            else:
                self._increment(job, progress)
        except (_Stopped, NotOwner):
            raise
        except LookalikeError as error:
            self.table.update(job.id, status="FAIL", code=error.kind, message=error.message)
        except Exception as error:
            log.exception("%s job %d failed", job.kind, job.id)
            self.table.update(job.id, status="FAIL", code="Internal", message=f"The job failed: {error}")

    def _launch(self, job: Job) -> Job:
        thread = threading.Thread(target=self.run, args=(job.id,), name=f"job-{job.id}", daemon=True)
        with self._threads_lock:  # requests and the watcher launch jobs
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def _dump(self, job: Job) -> None:
        # An export taken while an import runs would catch it halfway: it waits for the import's end.
        while self.table.select(instance=job.instance, kind="increment", status="PROCESSING"):
            if self._stopping.wait(IMPORT_POLL_SECONDS):
                raise _Stopped
        count = 0
        with written_whole(self._dir(job.id) / DUMP_FILE, sync=True) as out:
            for record in self.images.records(job.instance):
                if self._stopping.is_set():
                    raise _Stopped
                out.write((export_line(record) + "\n").encode())
                count += 1
        self.table.update(job.id, status="SUCCESS", lines=count)

    def _increment(self, job: Job, progress: Callable[[Job], None]) -> None:
        bucket, folder = self.buckets.get(job.bucket), folder_of(job.path)
        meta = self._dir(job.id) / META_FILE
        if not meta.exists():
            # A copy of its own: a resumed job reads the very lines it began with.
            try:
                with written_whole(meta) as copy:
                    bucket.download(folder + META_FILE, copy)
            except FileNotFoundError:
                raise BadJob(
                    f"The meta file is gone: bucket {bucket.name!r} has no /{folder}{META_FILE}"
                ) from None
            with meta.open("rb") as f:
                job = self.table.update(job.id, lines=sum(1 for _ in f))
        with meta.open(encoding="utf-8", errors="replace", newline=None) as f:
            for number, text in enumerate(f, start=1):
                if number <= job.done:
                    continue
                if self._stopping.is_set():
                    raise _Stopped
                job = self.table.record(
                    job.id, number, self._apply(job.instance, bucket, folder, number, text)
                )
                progress(job)
        self.table.update(job.id, status="SUCCESS")

    def _apply(self, instance: str, bucket: Bucket, folder: str, number: int, text: str) -> Outcome:
        """Apply one meta line: 'added', 'deleted', 'blank', or the reason it failed."""
        if not text.strip():
            return "blank"
        try:
            line = parse_meta_line(text)
            if line.operation == "DELETE":
                self.images.delete(instance, line.product_id, line.pic_name)
                return "deleted"
            assert line.pic_name is not None
            picture = Picture(_read_picture(bucket, folder, line.pic_name), region=line.region)
            add = AddImage(
                instance, line.product_id, line.pic_name, picture, line.category_id, line.attributes
            )
            self._add(add)
            return "added"
        except LookalikeError as error:
            return LineError(number, error.kind, error.message)

    def _add(self, add: AddImage) -> None:
        """Add, however long the picture waits for room to be decoded: the server's requests are refused
        after a while (DeniedRequest, try again), an import's lines wait their turn."""
        while True:
            try:
                self.images.add(add)
                return
            except DecodeBusy:
                if self._stopping.is_set():
                    raise _Stopped from None

    def running(self, instance: str) -> list[Job]:
        """The instance's jobs that have not ended (some may wait to be taken over)."""
        return self.table.select(instance=instance, status="PROCESSING")

    def forget(self, instance: str) -> None:
        """Remove every job of a deleted instance, with its files."""
        for job_id in self.table.forget(instance):
            shutil.rmtree(self._dir(job_id), ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------------------

    def _check_instance(self, name: str) -> None:
        """BadInstanceName for a name no instance can have, InstanceNotFound for one there is none of."""
        self.images.instances.get(check_name(name))

    def _create(self, kind: Kind, instance: str, busy_message: str, **columns: str) -> Job:
        try:
            job = self.table.create(kind, instance, **columns)
        except AlreadyRunning as running:
            message = f"{busy_message}: job {running.job.id} of instance {instance!r} runs"
            raise JobRunning(kind, message) from None
        self._dir(job.id).mkdir(parents=True, exist_ok=True)
        return job

    def _current(self, job_id: int) -> Job:
        """A job this process made or took over, as the table has it now."""
        job = self.table.get(job_id)
        assert job is not None, job_id
        return job

    def _dir(self, job_id: int) -> Path:
        return self.root / str(job_id)


def _read_picture(bucket: Bucket, folder: str, pic_name: str) -> bytes:
    """PicName is a path in the bucket; a name beside increment.meta is accepted too, as the cloud's
    older documentation kept the two in one folder."""
    name = pic_name.lstrip("/")  # documented without a leading '/', but there is no doubt what it means
    for key in dict.fromkeys((name, folder + name)):
        try:
            return bucket.read(key, MAX_PIC_BYTES + 1)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise DownloadFailed(f"[download] Img Download Failed: {pic_name!r}: {error}") from None
    raise DownloadFailed(f"[download] Img Download Failed: bucket {bucket.name!r} has no {pic_name!r}")
