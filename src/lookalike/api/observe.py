"""What an operator reads of each request: one log line (plain, or JSON with `--log-json`) and the request
counters of `lookalike.metrics`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

from lookalike.metrics import REQUESTS, STAGE_SECONDS
from lookalike.service.instances import NAME_PATTERN

log = logging.getLogger("lookalike.requests")
UNKNOWN = "unknown"


class RequestRecord:
    """What is known of one request as it goes: filled in as the pipeline learns it."""

    def __init__(self, request_id: str, known_actions: frozenset[str]):
        self.request_id = request_id
        self.known_actions = known_actions
        self.started = time.perf_counter()
        self.action = UNKNOWN
        self.instance = "-"
        self.key_id = "-"

    def name_action(self, action: str) -> None:
        """An action name from the request: kept only if it is one of ours, so labels stay a closed set."""
        self.action = action if action in self.known_actions else UNKNOWN

    def name_instance(self, instance: str | None) -> None:
        if instance and NAME_PATTERN.fullmatch(instance):
            self.instance = instance

    def finish(self, code: str) -> None:
        """Count the request and log its line; `code` is "0" on success, else the error code."""
        seconds = time.perf_counter() - self.started
        STAGE_SECONDS.labels("total").observe(seconds)
        REQUESTS.labels(self.action, code).inc()
        fields = {
            "request_id": self.request_id,
            "action": self.action,
            "instance": self.instance,
            "key_id": self.key_id,
            "code": code,
            "ms": round(seconds * 1000, 1),
        }
        log.info(" ".join(str(value) for value in fields.values()), extra={"fields": fields})


def known_actions(*names: Iterable[str]) -> frozenset[str]:
    return frozenset(name for group in names for name in group)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, and a request's fields when it has them."""

    def converter(self, seconds: float | None) -> time.struct_time:  # UTC, not local time
        return time.gmtime(seconds)

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(as_json: bool) -> None:
    handler = logging.StreamHandler()
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
