"""The per-request log line, plain and as JSON."""

from __future__ import annotations

import json
import logging

from lookalike.api.observe import JsonFormatter, RequestRecord


def test_a_request_line_has_its_fields_and_only_known_action_names(caplog):
    caplog.set_level(logging.INFO, logger="lookalike.requests")
    record = RequestRecord("RID", frozenset({"AddImage"}))
    record.name_action("AddImage\nforged")
    record.name_instance("shop")
    record.key_id = "key"
    record.finish("InvalidPicContent")
    (logged,) = caplog.records
    assert logged.getMessage().startswith("RID unknown shop key InvalidPicContent ")
    line = json.loads(JsonFormatter().format(logged))
    assert {k: line[k] for k in ("request_id", "action", "instance", "key_id", "code")} == {
        "request_id": "RID", "action": "unknown", "instance": "shop", "key_id": "key",
        "code": "InvalidPicContent",
    }  # fmt: skip
    assert line["level"] == "INFO" and line["time"].endswith("Z") and line["ms"] >= 0


def test_an_instance_name_that_is_not_one_is_not_logged():
    record = RequestRecord("RID", frozenset())
    record.name_instance("a b\n")
    assert record.instance == "-"
