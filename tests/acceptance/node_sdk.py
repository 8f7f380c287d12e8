"""The official Node.js SDK, @alicloud/imagesearch20201214 (pinned with every dependency by node/package.json
and node/package-lock.json), installed from npm into tests/.cache and driven through node/driver.js.

    python -m tests.acceptance.node_sdk    # installs it; `make test` runs this before the tests

The tests run in a network namespace of their own (tests/private_network.sh) that cannot reach the registry,
so `make test` installs the SDK before entering it. The folder is named by a hash of the two files: a change
of version installs anew, and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent / "node"
PINNED = (HERE / "package.json", HERE / "package-lock.json")
CACHE = Path(__file__).parents[1] / ".cache"
DONE = ".installed"


class NodeSdkUnavailable(Exception):
    pass


def missing_tools() -> list[str]:
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def installed() -> Path:
    """The node_modules folder of the pinned SDK, installed first with `npm ci` if it is not yet."""
    key = hashlib.sha256(b"".join(path.read_bytes() for path in PINNED)).hexdigest()[:16]
    folder = CACHE / f"node-sdk-{key}"
    if (folder / DONE).exists():
        return folder / "node_modules"
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="node-sdk-", dir=CACHE))
    try:
        for path in PINNED:
            shutil.copy(path, building)
        # --ignore-scripts: no package's install script runs (the SDK's only one picks TypeScript versions).
        npm = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        run = subprocess.run(npm, cwd=building, capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            raise NodeSdkUnavailable(
                f"`npm ci` of {HERE} failed (the registry must be reachable; `make test` installs it before "
                f"entering the tests' network namespace):\n{run.stderr[-2000:]}"
            )
        (building / DONE).touch()
        try:
            building.rename(folder)  # whole, or not at all
        except OSError:  # another process installed it meanwhile
            if not (folder / DONE).exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder / "node_modules"


def drive(node_modules: Path, client: dict, calls: list[dict]) -> list[dict]:
    """The answers of `calls` made by one client of the SDK (see driver.js for the command)."""
    run = subprocess.run(
        ["node", str(HERE / "driver.js")],
        input=json.dumps({"client": client, "calls": calls}),
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def main() -> int:
    if missing := missing_tools():
        print(f"no {' or '.join(missing)}: the Node.js SDK tests will be skipped", file=sys.stderr)
        return 0
    try:
        print(f"Node.js SDK in {installed()}")
    except NodeSdkUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
