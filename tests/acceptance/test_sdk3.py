"""The previous SDK generation, alibabacloud-imagesearch20201214 3.1.3: RPC signature, every parameter in the
body, its own *_advance flow (openplatform + OSS SDKs).

It cannot live in the test environment (same package names as 4.x, older versions), so it runs in a virtual
environment of its own: the SDK's packages from the wheels beside this file, in front of the third-party
packages the test environment already has. Nothing is downloaded, so it builds in seconds in a fresh clone.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET

HERE = Path(__file__).parent / "sdk3"
REQUIREMENTS = HERE / "requirements.txt"
WHEELS = sorted((HERE / "wheels").glob("*.whl"))
VERSIONS = dict(wheel.name.split("-")[:2] for wheel in WHEELS)  # distribution name: version


@pytest.fixture(scope="session")
def sdk3_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a virtual environment with SDK 3.1.3's own packages; a .pth file puts the test
    environment's site-packages behind them, so its third-party packages are shared and 4.x's packages of
    the same names stay hidden."""
    venv = tmp_path_factory.mktemp("sdk3")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    pip += ["install", "--quiet", "--no-deps"]
    # The wheels first, while pip sees no 4.x packages of the same names that it would try to replace.
    _install([*pip, "--no-index", *map(str, WHEELS)])
    shared = dict.fromkeys(sysconfig.get_path(name) for name in ("purelib", "platlib"))
    own = Path(sysconfig.get_path("purelib", "venv", {"base": str(venv)}))
    (own / "test-environment.pth").write_text("".join(f"{path}\n" for path in shared))
    # Already there, so nothing is fetched; were one missing, the registry would provide it.
    _install([*pip, "-r", str(REQUIREMENTS)])
    return python


def _install(command: list[str]) -> None:
    installed = subprocess.run(command, capture_output=True, text=True)
    assert installed.returncode == 0, f"cannot build the SDK 3.1.3 environment:\n{installed.stderr}"


def test_every_action_of_sdk_3(sdk3_python, server, instance, photos):
    scenario = {
        "endpoint": server.endpoint,
        "key_id": ACCESS_KEY_ID,
        "secret": ACCESS_KEY_SECRET,
        "instance": instance,
        "pictures": [base64.b64encode(photos[name]).decode() for name in ("coffee", "rocket")],
        "distributions": list(VERSIONS),
    }
    run = subprocess.run(
        [str(sdk3_python), str(HERE / "driver.py")],
        input=json.dumps(scenario),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["versions"] == VERSIONS  # the 3.1.3 generation ran, not 4.x's packages of the same names
    assert out["add"]["Success"] is True and out["add"]["PicInfo"]["CategoryId"] == 88888888
    hit = out["search_by_pic"]["Auctions"][0]
    assert (hit["ProductId"], hit["PicName"], hit["IntAttr"], hit["StrAttr"]) == ("p1", "a.jpg", 5, "x")
    assert hit["Score"] == pytest.approx(1.0, abs=1e-4)
    assert out["search_by_name"]["Auctions"][0]["PicName"] == "a.jpg"
    assert out["add_advance"]["Success"] is True
    assert out["search_advance"]["Auctions"][0]["ProductId"] == "p2"
    assert out["delete"]["Success"] is True  # 3.1.3's model has no Data
    assert out["error"]["code"] == "InvalidInstance" and out["error"]["data"]["statusCode"] == 400
