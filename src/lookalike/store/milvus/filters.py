"""The engine-neutral filter tree of `domain.filters`, compiled to a Milvus boolean expression."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lookalike.domain.filters import INT64_MIN, And, Compare, Filter, In, Not, Or, check_value

_NOTHING = "key in []"
_EVERYTHING = "key not in []"
_OPS = {"=": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def compile_filter(tree: Filter) -> str:
    """The Milvus boolean expression matching exactly the images `domain.filters.matches` accepts.

    Field names come from the whitelist, strings are quoted as JSON (whose escapes Milvus's parser reads the
    same way), integers are checked to be integers: nothing of a request is pasted in as it came.
    """
    match tree:
        case Compare(field=name, op=op, value=value):
            kind = check_value(name, value)
            if op not in _OPS:
                raise ValueError(f"unknown operator {op!r}")
            if kind is str and op not in ("=", "!="):
                raise ValueError(f"{op} compares int fields only, not {name}")
            if value == INT64_MIN and kind is int:
                return _at_lowest(name, op)
            return f"{name} {_OPS[op]} {literal(value)}"
        case In(field=name, values=values, negated=negated):
            plain = [v for v in values if not (check_value(name, v) is int and v == INT64_MIN)]
            inside = f"{name} in {literal_list(plain)}"
            if len(plain) < len(values):
                inside = f"({inside} or {_at_lowest(name, '=')})"
            return f"not ({inside})" if negated else inside
        case And(items=items):
            return " and ".join(f"({compile_filter(item)})" for item in items) if items else _EVERYTHING
        case Or(items=items):
            return " or ".join(f"({compile_filter(item)})" for item in items) if items else _NOTHING
        case Not(item=item):
            return f"not ({compile_filter(item)})"
    raise TypeError(f"not a filter: {tree!r}")


def _at_lowest(name: str, op: str) -> str:
    """`name op INT64_MIN`, written without the literal -2**63, which Milvus's parser cannot read."""
    above = f"{INT64_MIN + 1}"
    return {
        "=": f"{name} < {above}",
        "<=": f"{name} < {above}",
        "!=": f"{name} >= {above}",
        ">": f"{name} >= {above}",
        "<": _NOTHING,
        ">=": _EVERYTHING,
    }[op]


def literal(value: int | str) -> str:
    if isinstance(value, int):
        return str(value)
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"not a valid unicode string: {value!r}") from None
    return json.dumps(value, ensure_ascii=False)


def literal_list(values: Sequence[int | str]) -> str:
    return "[" + ", ".join(literal(value) for value in values) + "]"
