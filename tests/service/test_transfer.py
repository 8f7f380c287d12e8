"""`lookalike instance export|import` moves an instance, vectors included, between the embedded engine and
Milvus (and from one data directory to another), so that search answers the same after the move."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from lookalike.cli import main
from lookalike.service.instances import Instances
from lookalike.store import open_store
from lookalike.store.base import Store
from lookalike.vision.fingerprint import (
    Fingerprint,
    check_or_record,
    image_model_sha256,
    recorded_in,
    stored_pooling,
)
from tests.store.conftest import DIM, make_records, unit


def fill(data: Path, store_uri: str | None, name: str, count: int) -> list:
    Instances(data / "instances").create(name, "generic", 5000)
    store = open_store(store_uri, data / "store")
    store.ensure_collection(name, DIM)
    records = make_records(count, seed=13)
    store.upsert(name, records)
    store.close()
    return records


def contents(store: Store, name: str):
    """Every record of a collection with its vector, by key, and the ranking of a few queries."""
    page, cursor = store.scroll(name, limit=10_000, with_vectors=True)
    assert cursor is None
    rankings = [
        [(h.image.key, round(h.score, 5)) for h in store.search(name, query, limit=20)]
        for query in unit(np.random.default_rng(3), 3)
    ]
    return {r.key: r for r in page}, rankings


@pytest.fixture(params=["qdrant-edge", "milvus"])
def target(request: pytest.FixtureRequest) -> str:
    """The store the instance moves to: the embedded engine of another data directory, or Milvus."""
    return request.param if request.param == "qdrant-edge" else request.getfixturevalue("milvus_database")


def test_an_instance_moves_with_its_vectors(tmp_path: Path, target: str, capsys):
    records = fill(tmp_path / "a", None, "shop", 700)
    export = tmp_path / "shop.jsonl"
    assert main(["instance", "export", "shop", "--data", str(tmp_path / "a"), "-o", str(export)]) == 0
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "b"), "--store", target]) == 0
    assert "imported 700 images into 'shop'" in capsys.readouterr().err

    moved = Instances(tmp_path / "b" / "instances").get("shop")
    assert (moved.type, moved.capacity) == ("generic", 5000)
    source = open_store(None, tmp_path / "a" / "store")
    destination = open_store(target, tmp_path / "b" / "store")
    try:
        before, ranked_before = contents(source, "shop")
        after, ranked_after = contents(destination, "shop")
    finally:
        source.close()
        destination.close()
    assert after == before and len(after) == len(records)  # every field but the vector
    assert all(np.array_equal(after[key].vector, before[key].vector) for key in before)  # bit for bit
    assert ranked_after == ranked_before


def test_import_into_another_name_and_back(tmp_path: Path, capsys):
    fill(tmp_path, None, "shop", 30)
    export = tmp_path / "shop.jsonl"
    main(["instance", "export", "shop", "--data", str(tmp_path), "-o", str(export)])
    assert main(["instance", "import", str(export), "--data", str(tmp_path), "--name", "copy"]) == 0
    assert main(["instance", "import", str(export), "--data", str(tmp_path), "--name", "copy"]) == 0
    store = open_store(None, tmp_path / "store")
    try:
        assert store.count("copy") == 30  # the same keys again overwrite
    finally:
        store.close()


def test_the_export_format(tmp_path: Path, capsys):
    (record,) = fill(tmp_path, None, "shop", 1)
    assert main(["instance", "export", "shop", "--data", str(tmp_path)]) == 0
    header, line = map(json.loads, capsys.readouterr().out.splitlines())
    assert header["format"] == "lookalike-instance" and header["version"] == 1
    assert header["instance"]["name"] == "shop" and header["instance"]["type"] == "generic"
    assert line["product_id"] == record.product_id and line["region"] == list(record.region)
    assert isinstance(line["vector"], str)  # base64 of DIM little-endian float32


def test_bad_input_is_refused_with_a_message(tmp_path: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "something else"}\n')
    assert main(["instance", "import", str(bad), "--data", str(tmp_path)]) == 2
    assert "not a lookalike-instance export" in capsys.readouterr().err
    assert main(["instance", "export", "nope", "--data", str(tmp_path)]) == 2
    assert "is not found: 'nope'" in capsys.readouterr().err


def test_the_export_says_what_made_its_vectors_and_another_models_data_refuses_them(tmp_path: Path, capsys):
    lite0 = Fingerprint("a" * 64, DIM, {"vector": "features"})
    check_or_record(tmp_path / "a", lite0)
    fill(tmp_path / "a", None, "shop", 5)
    export = tmp_path / "shop.jsonl"
    assert main(["instance", "export", "shop", "--data", str(tmp_path / "a"), "-o", str(export)]) == 0
    assert json.loads(export.read_text().splitlines()[0])["model"] == asdict(lite0)

    # A data directory whose vectors another pooling made refuses them, before anything is stored ...
    check_or_record(tmp_path / "b", Fingerprint("a" * 64, DIM, {"vector": "rmac-gem3"}))
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "b")]) == 2
    assert "vectors made two ways cannot be compared" in capsys.readouterr().err
    assert not (tmp_path / "b" / "instances").exists()
    # ... and a new one takes the export's record as its own.
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "c")]) == 0
    assert recorded_in(tmp_path / "c") == lite0


def record_less_export(tmp_path: Path) -> Path:
    """An export of a data directory that recorded nothing (made before records were kept): its vectors
    were made by the model's own `features`."""
    fill(tmp_path / "old", None, "shop", 5)
    export = tmp_path / "old.jsonl"
    assert main(["instance", "export", "shop", "--data", str(tmp_path / "old"), "-o", str(export)]) == 0
    assert json.loads(export.read_text().splitlines()[0])["model"] is None
    return export


def test_a_record_less_export_is_taken_as_the_models_own_features(tmp_path: Path, capsys):
    export = record_less_export(tmp_path)
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "new")]) == 0
    recorded = recorded_in(tmp_path / "new")
    assert recorded == Fingerprint(image_model_sha256(None), DIM, {"vector": "features"})
    assert stored_pooling(tmp_path / "new", has_instances=True) == "features"  # new vectors join them


def test_a_record_less_export_never_joins_vectors_pooled_another_way(tmp_path: Path, capsys):
    export = record_less_export(tmp_path)
    check_or_record(tmp_path / "b", Fingerprint(image_model_sha256(None), DIM, {"vector": "rmac-gem3"}))
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "b")]) == 2
    assert "vectors made two ways cannot be compared" in capsys.readouterr().err
    assert not (tmp_path / "b" / "instances").exists()


def test_an_export_recorded_before_descriptors_were_named_was_made_by_their_first_versions(
    tmp_path: Path, capsys
):
    made = Fingerprint(image_model_sha256(None), DIM, {"vector": "features"})
    check_or_record(tmp_path / "old", made)
    fill(tmp_path / "old", None, "shop", 5)
    export = tmp_path / "old.jsonl"
    assert main(["instance", "export", "shop", "--data", str(tmp_path / "old"), "-o", str(export)]) == 0
    header, *lines = export.read_text().splitlines()
    older = json.loads(header)
    del older["model"]["descriptors"]  # as a record written before descriptors were named says it
    export.write_text("\n".join([json.dumps(older), *lines]) + "\n")

    check_or_record(tmp_path / "same", made)
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "same")]) == 0
    check_or_record(tmp_path / "other", replace(made, descriptors={"vector": "rmac-gem3"}))
    assert main(["instance", "import", str(export), "--data", str(tmp_path / "other")]) == 2
    assert "vectors made two ways cannot be compared" in capsys.readouterr().err
