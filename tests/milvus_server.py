"""A real Milvus for the tests: the standalone server of the PyPI package `milvus` (`milvus-server`).

Milvus listens on every interface and on fixed ports, so it runs only where nothing outside can reach it: in
a private network namespace whose one interface is the loopback. `make test` runs the suite in one
(tests/private_network.sh) where the machine permits it; elsewhere the Milvus tests are skipped and say why.
LOOKALIKE_TEST_MILVUS=milvus://host:port runs them against a server of your own instead (a cluster, say).

For the tests the server is tuned for speed, not for production (the answers are the same): a 10 ms time tick
makes a Strong read take ~20 ms instead of ~200 ms, and shorter query coordinator intervals load a new
collection in ~2 s instead of ~3 s. Authentication is on (root/Milvus), and the tests connect with TLS,
verifying the server's certificate against a CA made for the run with openssl (where there is one); Milvus
2.3.5 still accepts plain connections too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

MILVUS_VERSION = "2.3.5"
ROOT_USER, ROOT_PASSWORD = "root", "Milvus"  # the built-in account of a new server
# Milvus settings as environment variables (SECTION_KEY, upper case), which reach every setting.
TEST_SETTINGS = {
    "PROXY_TIMETICKINTERVAL": "10",
    "QUERYCOORD_CHECKINTERVAL": "50",
    "QUERYCOORD_CHECKCHANNELINTERVAL": "50",
    "QUERYCOORD_CHECKSEGMENTINTERVAL": "50",
    "QUERYCOORD_DISTPULLINTERVAL": "50",
}
START_TIMEOUT = 180  # seconds; the first start also unpacks the binaries (~10 s)


class MilvusUnavailable(Exception):
    """Why no Milvus server can run here: the tests that need one are skipped with this reason."""


def only_loopback() -> bool:
    """True inside a network namespace whose only interface is the loopback."""
    return {name for _, name in socket.if_nameindex()} == {"lo"}


class MilvusServer:
    """One `milvus-server` process with its data under `root`, stopped (killed) by `stop`."""

    def __init__(self, root: Path, settings: dict[str, str] = TEST_SETTINGS, tls: bool = True):
        self.root = root
        self.settings = settings
        self.tls = tls and shutil.which("openssl") is not None
        self.process: subprocess.Popen | None = None
        self.log_path = root / "milvus-server.log"

    @property
    def uri(self) -> str:
        uri = f"milvus://{ROOT_USER}:{ROOT_PASSWORD}@127.0.0.1:19530"
        return f"{uri}?ca={self.root / 'tls' / 'ca.pem'}" if self.tls else uri  # ca=... implies TLS

    def start(self) -> MilvusServer:
        if not only_loopback():
            raise MilvusUnavailable(
                "Milvus listens on every interface, so its tests run only in a private network namespace: "
                "`make test` makes one where `unshare -n` is permitted (or set LOOKALIKE_TEST_MILVUS=milvus://...)"
            )
        executable = Path(sys.executable).with_name("milvus-server")
        if not executable.exists():
            raise MilvusUnavailable(f"no {executable}: pip install milvus=={MILVUS_VERSION}")
        self.root.mkdir(parents=True, exist_ok=True)
        with _binaries(self.root / "bin"):  # unpacked once per virtualenv, shared by every run
            command = [str(executable), "--data", str(self.root), "--authorization-enabled", "true"]
            if self.tls:
                command += _certificates(self.root / "tls")
            with self.log_path.open("ab") as log:
                # A process group of its own: the wrapper does not stop the server it starts; killpg does.
                self.process = subprocess.Popen(
                    command,
                    env={**os.environ, **self.settings},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self._wait_until_ready()
            except BaseException:
                self.stop()
                raise
        return self

    def _wait_until_ready(self) -> None:
        from lookalike.store.milvus import MilvusAddress, MilvusStore

        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MilvusUnavailable(f"milvus-server exited with {self.process.returncode}:\n{self.log()}")
            try:
                MilvusStore(MilvusAddress.parse(self.uri), timeout=5).close()
                return
            except ConnectionError:
                time.sleep(0.5)
        raise MilvusUnavailable(f"Milvus did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        """Kill the server: its data is thrown away, so it needs no orderly shutdown (which takes ~10 s)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def log(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _binaries(link: Path) -> Iterator[None]:
    """Point `link` at the virtualenv's cache of unpacked server binaries, locked while a server starts."""
    cache = Path(sys.prefix) / f"milvus-server-{MILVUS_VERSION}" / "bin"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs must not unpack into the cache at once
        if not link.exists():
            link.symlink_to(cache, target_is_directory=True)
        yield


def _certificates(folder: Path) -> list[str]:
    """A CA, and a certificate for 127.0.0.1 that it signed; the `milvus-server` options that use them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "names.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for command in (
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lookalike-test-ca -keyout ca.key -out ca.pem",
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr",
        "x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile names.cnf "
        "-out server.pem",
    ):
        subprocess.run(["openssl", *command.split()], cwd=folder, check=True, capture_output=True)
    return ["--tls-mode", "1"] + [
        f"--{flag}-path={folder / name}"
        for flag, name in (("server-pem", "server.pem"), ("server-key", "server.key"), ("ca-pem", "ca.pem"))
    ]
