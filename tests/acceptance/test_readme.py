"""The README's SDK example runs as written, against a real server."""

from __future__ import annotations

import re
from pathlib import Path

from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_sdk_example_works(server, instance, photos, tmp_path, monkeypatch, capsys):
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "Client(" in b]
    (tmp_path / "shoe.jpg").write_bytes(photos["coffee"])
    monkeypatch.chdir(tmp_path)
    code = (
        example.replace('"LTAI..."', repr(ACCESS_KEY_ID))
        .replace('"..."', repr(ACCESS_KEY_SECRET))
        .replace('"127.0.0.1:8080"', repr(server.endpoint))
        .replace('"shop"', repr(instance))
    )
    exec(compile(code, str(README), "exec"), {})
    assert capsys.readouterr().out.split()[:2] == ["sku-1", "front.jpg"]
