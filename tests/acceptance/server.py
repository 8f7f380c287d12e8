"""A real Lookalike server in a child process, on a loopback port, for the acceptance tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ACCESS_KEY_ID = "acceptanceKeyId"
ACCESS_KEY_SECRET = "acceptanceKeySecret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_args = extra_args
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-{self.port}-server.log"  # one per server

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if "--tls-cert" in self.extra_args else "http"

    def start(self, timeout: float = 60) -> ServerProcess:
        env = {
            **os.environ,
            "LOOKALIKE_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "LOOKALIKE_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "PYTHONFAULTHANDLER": "1",  # see `stop`
            **self.extra_env,
        }
        command = [sys.executable, "-m", "lookalike", "serve", "--data", str(self.data_dir),
                   "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args]  # fmt: skip
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                # The health check trusts any certificate: the tests of TLS check it themselves.
                with urllib.request.urlopen(
                    f"{self.scheme}://{self.endpoint}/healthz",
                    timeout=1,
                    context=ssl._create_unverified_context(),
                ):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the server and wait until it exits. One that does not exit within 30 s is killed, and
        that is an error: a server that hangs on its way out must not cost every run the timeout unseen."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack to the log
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise AssertionError(
                f"the server did not stop within 30 s, so it was killed (its threads at the end):\n"
                f"{self.log()}"
            ) from None

    def kill(self) -> None:
        """Stop without any chance to flush: what a power cut or OOM kill does."""
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
