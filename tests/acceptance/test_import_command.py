"""`lookalike import`: the same job as IncreaseInstance, run here when no server owns the data directory,
and handed to the server when one does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import add_line, increments, write_folder
from tests.acceptance.sdk import found, make_client, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess

KEYS = {"LOOKALIKE_ACCESS_KEY_ID": ACCESS_KEY_ID, "LOOKALIKE_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET}


def lookalike(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOOKALIKE_")} | (env or {})
    command = [sys.executable, "-m", "lookalike", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=300)


def test_import_without_a_server_then_through_one(tmp_path, photos):
    data, bucket = tmp_path / "data", tmp_path / "bucket"
    instance = create_instance(data)
    write_folder(
        bucket / "batch", photos, add_line("p1", "batch/coffee.jpg"), add_line("p2", "batch/gone.jpg")
    )

    here = lookalike("import", instance, str(bucket), "/batch", "--data", str(data))
    assert here.returncode == 1, here.stderr  # a line failed
    assert "SUCCESS: 2 of 2 lines: 1 added, 0 deleted, 1 failed" in here.stdout
    assert "line 2: PictureError" in here.stdout

    process = ServerProcess(data, extra_args=("--bucket", f"shop={bucket}")).start()
    try:
        client = make_client(process.endpoint)
        (done,) = increments(client, instance)
        assert (done.status, done.bucket_name, done.path) == ("SUCCESS", str(bucket), "/batch")
        assert found(search_pic(client, instance, photos["coffee"])) == [("p1", "batch/coffee.jpg")]

        write_folder(bucket / "more", photos, add_line("p3", "more/rocket.jpg"))
        handed = lookalike("import", instance, "shop", "/more", "--data", str(data), env=KEYS)
        assert handed.returncode == 0, handed.stderr
        assert "handed to the server" in handed.stdout
        assert "SUCCESS: 1 of 1 lines: 1 added, 0 deleted, 0 failed" in handed.stdout
        assert [i.bucket_name for i in increments(client, instance)] == ["shop", str(bucket)]
        assert sorted(found(search_pic(client, instance, photos["rocket"]))) == [
            ("p1", "batch/coffee.jpg"), ("p3", "more/rocket.jpg"),
        ]  # fmt: skip

        folder = lookalike("import", instance, str(bucket), "/more", "--data", str(data), env=KEYS)
        assert folder.returncode == 2 and "reads only its own buckets" in folder.stderr
        keyless = lookalike("import", instance, "shop", "/more", "--data", str(data))
        assert keyless.returncode == 2 and "LOOKALIKE_ACCESS_KEY_ID" in keyless.stderr
    finally:
        process.stop()


def test_import_refuses_what_the_service_refuses(tmp_path, photos):
    data, bucket = tmp_path / "data", tmp_path / "bucket"
    write_folder(bucket, photos, add_line("p1", "coffee.jpg"))
    missing = lookalike("import", "nosuch", str(bucket), "--data", str(data))
    assert missing.returncode == 2 and "not found: 'nosuch'" in missing.stderr
    no_folder = lookalike("import", create_instance(data), str(tmp_path / "nowhere"), "--data", str(data))
    assert no_folder.returncode == 2 and "is not a directory" in no_folder.stderr


def ignoring_ctrl_c() -> None:
    """What a shell does to a command it starts in the background (without job control)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop", "started"),
    [(signal.SIGINT, None), (signal.SIGINT, ignoring_ctrl_c), (signal.SIGTERM, None)],
    ids=["ctrl-c", "ctrl-c-in-the-background", "sigterm"],
)
def test_ctrl_c_ends_the_import_and_leaves_the_instance_free_for_the_next(tmp_path, photos, stop, started):
    data, bucket = tmp_path / "data", tmp_path / "bucket"
    instance = create_instance(data)
    # Long enough (minutes) that the job cannot end before the signal, however busy the machine.
    write_folder(bucket, photos, *(add_line(f"p{i}", "coffee.jpg") for i in range(5000)))
    command = [sys.executable, "-m", "lookalike", "import", instance, str(bucket), "--data", str(data)]
    running = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=started
    )
    assert running.stdout.readline().startswith("import job 1:")  # it runs now
    running.send_signal(stop)
    out, err = running.communicate(timeout=120)
    assert running.returncode == 1, err
    assert "FAIL: " in out and "Interrupted (Ctrl-C)" in out

    write_folder(bucket, photos, add_line("p", "rocket.jpg"))
    again = lookalike("import", instance, str(bucket), "--data", str(data))
    assert again.returncode == 0 and "import job 2:" in again.stdout
