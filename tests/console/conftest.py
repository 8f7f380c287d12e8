"""One real server and one real headless Chromium (Debian's, never a downloaded one) for the console tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.server import ServerProcess

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def chromium() -> str:
    """Debian's chromium (`make test` installs it first: tests/install_chromium.sh)."""
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium: sh tests/install_chromium.sh (as root) installs Debian's package")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("console") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """A browser context with a fresh profile (Playwright passes it as --user-data-dir)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900}
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests keep what the pages looked like (under pytest's output folder)."""
    return tmp_path_factory.mktemp("console-screenshots")
