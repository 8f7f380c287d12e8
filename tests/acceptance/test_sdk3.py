"""The previous SDK generation, alibabacloud-imagesearch20201214 3.1.3: RPC signature, every parameter in the
body, its own *_advance flow (openplatform + OSS SDKs).

It cannot live in the test environment (same package name as 4.x, older dependencies), so it runs in a
virtual environment of its own, built once from pinned requirements and kept in pytest's cache directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET

HERE = Path(__file__).parent / "sdk3"
REQUIREMENTS = HERE / "requirements.txt"


@pytest.fixture(scope="session")
def sdk3_python(request: pytest.FixtureRequest) -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = request.config.cache.mkdir(f"sdk3-{digest}")
    python = venv / "bin" / "python"
    if not (venv / "complete").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        installed = subprocess.run([*pip, "-r", str(REQUIREMENTS)], capture_output=True, text=True)
        assert installed.returncode == 0, f"cannot install SDK 3.1.3 from PyPI:\n{installed.stderr}"
        (venv / "complete").touch()
    return python


def test_every_action_of_sdk_3(sdk3_python, server, instance, photos):
    scenario = {
        "endpoint": server.endpoint,
        "key_id": ACCESS_KEY_ID,
        "secret": ACCESS_KEY_SECRET,
        "instance": instance,
        "pictures": [base64.b64encode(photos[name]).decode() for name in ("coffee", "rocket")],
    }
    run = subprocess.run(
        [str(sdk3_python), str(HERE / "driver.py")],
        input=json.dumps(scenario),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["add"]["Success"] is True and out["add"]["PicInfo"]["CategoryId"] == 88888888
    hit = out["search_by_pic"]["Auctions"][0]
    assert (hit["ProductId"], hit["PicName"], hit["IntAttr"], hit["StrAttr"]) == ("p1", "a.jpg", 5, "x")
    assert hit["Score"] == pytest.approx(1.0, abs=1e-4)
    assert out["search_by_name"]["Auctions"][0]["PicName"] == "a.jpg"
    assert out["add_advance"]["Success"] is True
    assert out["search_advance"]["Auctions"][0]["ProductId"] == "p2"
    assert out["delete"]["Success"] is True  # 3.1.3's model has no Data
    assert out["error"]["code"] == "InvalidInstance" and out["error"]["data"]["statusCode"] == 400
