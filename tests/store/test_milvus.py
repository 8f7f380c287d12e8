"""What only the Milvus engine has to show: its URI, its names, quoting of filter values, and that several
clients of one Milvus (several Lookalike processes) see one catalog. The shared suite is test_store.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pymilvus import MilvusClient

from lookalike.domain.filters import Compare, In, Or
from lookalike.store.base import Store
from lookalike.store.milvus import MilvusAddress, MilvusStore, compile_filter, milvus_name

from .conftest import BACKENDS, DIM, Backend, make_records, unit

# -- the URI -------------------------------------------------------------------------------------------------


def test_a_plain_uri():
    address = MilvusAddress.parse("milvus://milvus.internal")
    assert (address.host, address.port, address.user, address.database, address.tls) == (
        "milvus.internal", 19530, "", "", False,
    )  # fmt: skip
    assert address.client_options() == {
        "uri": "http://milvus.internal:19530", "user": "", "password": "", "db_name": "",
    }  # fmt: skip


def test_user_password_database_and_tls():
    address = MilvusAddress.parse("milvus://shop:p%40ss@10.0.0.5:19531/catalog?tls=true&ca=/etc/ca.pem")
    assert (address.user, address.password, address.database) == ("shop", "p@ss", "catalog")
    assert address.client_options() == {
        "uri": "https://10.0.0.5:19531",
        "user": "shop",
        "password": "p@ss",
        "db_name": "catalog",
        "secure": True,
        "server_pem_path": "/etc/ca.pem",
    }


def test_mutual_tls_and_a_server_name():
    uri = "milvus://h?ca=/ca.pem&cert=/client.pem&key=/client.key&server_name=milvus.example"
    options = MilvusAddress.parse(uri).client_options()
    assert options["uri"] == "https://h:19530" and options["secure"] is True
    assert (options["ca_pem_path"], options["client_pem_path"], options["client_key_path"]) == (
        "/ca.pem", "/client.pem", "/client.key",
    )  # fmt: skip
    assert options["server_name"] == "milvus.example"


def test_the_password_may_come_from_the_environment():
    environ = {"LOOKALIKE_MILVUS_PASSWORD": "secret"}
    assert MilvusAddress.parse("milvus://shop@h", environ).password == "secret"
    assert MilvusAddress.parse("milvus://shop:given@h", environ).password == "given"
    assert MilvusAddress.parse("milvus://h", environ).password == ""  # no user, no password


@pytest.mark.parametrize(
    "uri",
    ["http://h:19530", "milvus://", "milvus://h?tls=maybe", "milvus://h?cert=/c.pem", "milvus://h?token=x"],
)
def test_bad_uris_are_refused(uri: str):
    with pytest.raises(ValueError):
        MilvusAddress.parse(uri)


# -- names and filters ---------------------------------------------------------------------------------------


def test_collection_names_map_to_distinct_milvus_names():
    names = ["shop", "a-b", "a_b", "a__b", "a_db", "a-_b", "a_-b", "9lives", "A", "a"]
    mapped = [milvus_name(name) for name in names]
    assert len(set(mapped)) == len(names)
    assert all(m.startswith("lookalike_") and m.replace("_", "").isalnum() for m in mapped)
    with pytest.raises(ValueError):
        milvus_name("../x")


def test_values_are_quoted_never_pasted():
    assert compile_filter(Compare("str_attr", "=", 'x" or key != "')) == r'str_attr == "x\" or key != \""'
    assert compile_filter(In("pic_name", ("a\\", "b\n"))) == r'pic_name in ["a\\", "b\n"]'
    assert compile_filter(Compare("int_attr", ">", -(2**63))) == "int_attr >= -9223372036854775807"
    assert compile_filter(Or(())) == "key in []"
    with pytest.raises(ValueError):
        compile_filter(Compare("str_attr", "=", "\ud800"))  # not encodable: refused, not sent


# -- on a real server ----------------------------------------------------------------------------------------


@pytest.fixture
def milvus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Stores on one Milvus database, as several Lookalike processes would open them."""
    backend = BACKENDS["milvus"](request, tmp_path)
    yield backend
    backend.close_all()


NASTY = ['" or key not in [] or "', "x' or 'y", "a\\", "\\u0041", "tab\tnl\nnul\x00", "😀 中文", "$x %s {}"]


def test_nasty_strings_match_only_themselves(milvus: Backend):
    store = milvus.open()
    store.ensure_collection("c", DIM)
    records = make_records(len(NASTY))
    for record, text in zip(records, NASTY, strict=True):
        record.product_id, record.attributes = text, replace(record.attributes, str_attr=text)
    store.upsert("c", records)
    for record, text in zip(records, NASTY, strict=True):
        assert store.get("c", [record.key]) == [record]
        assert store.count("c", Compare("str_attr", "=", text)) == 1
        assert store.count("c", In("product_id", (record.product_id, "other"))) == 1
    assert store.count("c") == len(NASTY)


def test_two_clients_see_one_catalog_at_once(milvus: Backend):
    first, second = milvus.open(), milvus.open()
    first.ensure_collection("c", DIM)
    for record in make_records(10, seed=5):
        first.upsert("c", [record])
        (hit,) = second.search("c", record.vector, limit=1)  # no ensure_collection: it exists already
        assert hit.image == record
        assert second.delete("c", [record.key]) == [record.key]
        assert first.get("c", [record.key]) == []
    second.drop_collection("c")
    with pytest.raises(KeyError):
        first.count("c")


def test_the_credentials_and_tls_of_the_uri_are_used(milvus_uri: str):
    address = MilvusAddress.parse(milvus_uri)
    MilvusStore(address).close()
    with pytest.raises(ConnectionError):
        MilvusStore(dataclasses.replace(address, password="wrong"), timeout=5)
    with pytest.raises(ConnectionError, match="nosuchdatabase"):
        MilvusStore(dataclasses.replace(address, database="nosuchdatabase"))
    if address.tls:  # the test server's certificate is signed by a CA made for the run (with openssl)
        with pytest.raises(ConnectionError):  # which the system's CAs, used without ca=, do not know
            MilvusStore(dataclasses.replace(address, ca=""), timeout=5)


def test_scroll_and_search_span_sealed_and_growing_segments(milvus: Backend, milvus_uri: str):
    store = milvus.open()
    store.ensure_collection("c", DIM)
    records = make_records(900, seed=8)
    seal = _sealer(milvus_uri, store)
    for start in range(0, 900, 300):
        store.upsert("c", records[start : start + 300])
        if start < 600:
            seal("c")  # two sealed segments, then one growing
    seen, cursor = [], None
    while True:
        page, cursor = store.scroll("c", limit=128, cursor=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert len(seen) == len(records) and {r.key for r in seen} == {r.key for r in records}
    query = unit(np.random.default_rng(4), 1)[0]
    best = sorted(records, key=lambda r: -float(r.vector @ query))[:20]
    assert [h.image.key for h in store.search("c", query, limit=20)] == [r.key for r in best]
    assert store.delete_by_filter("c", Compare("int_attr", ">=", 0)) != []
    assert store.count("c", Compare("int_attr", ">=", 0)) == 0


def _sealer(uri: str, store: Store) -> Callable[[str], None]:
    """Milvus's flush: seals the growing segments of a collection (Lookalike never needs it)."""
    options = MilvusAddress.parse(uri).client_options()
    client = MilvusClient(**{**options, "db_name": store.address.database})  # type: ignore[attr-defined]
    return lambda name: client.flush(milvus_name(name))
