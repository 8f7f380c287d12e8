"""The engine-neutral filter tree of `store.base`, compiled to a Qdrant filter."""

from __future__ import annotations

import qdrant_edge as qe

from lookalike.domain.filters import And, Compare, Filter, In, Not, Or, check_value

# Integers up to 2**53 are exact as floats, the only type of Qdrant's range bounds.
_EXACT_INT = 2**53
_RANGE = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_NOTHING = qe.Filter(must=[qe.HasIdCondition(set())])  # matches no point


def compile_filter(tree: Filter) -> qe.Filter:
    """The Qdrant filter matching exactly the records `domain.filters.matches(tree, image)` accepts."""
    condition = _condition(tree)
    return condition if isinstance(condition, qe.Filter) else qe.Filter(must=[condition])


def compile_optional(tree: Filter | None) -> qe.Filter | None:
    return None if tree is None else compile_filter(tree)


def _condition(tree: Filter) -> qe.Filter | qe.FieldCondition:
    match tree:
        case Compare(field=name, op=op, value=value):
            kind = check_value(name, value)
            if op == "=":
                return qe.FieldCondition(name, match=qe.MatchValue(value))
            if op == "!=":  # every record has every field, so "not equal" is "not (equal)"
                return qe.Filter(must_not=[qe.FieldCondition(name, match=qe.MatchValue(value))])
            if op not in _RANGE:
                raise ValueError(f"unknown operator {op!r}")
            if kind is not int or not isinstance(value, int):
                raise ValueError(f"{op} compares int fields only, not {name}")
            # Clamped: the answer is the same for stored integers (|x| < 2**53) and the bound stays exact.
            bound = float(min(max(value, -_EXACT_INT), _EXACT_INT))
            return qe.FieldCondition(name, range=qe.RangeFloat(**{_RANGE[op]: bound}))
        case In(field=name, values=values, negated=negated):
            kinds = {check_value(name, value) for value in values}
            matched = qe.MatchAny([int(v) for v in values] if kinds == {int} else [str(v) for v in values])
            inner = qe.FieldCondition(name, match=matched) if values else _NOTHING
            return qe.Filter(must_not=[inner]) if negated else inner
        case And(items=items):
            return qe.Filter(must=[_condition(item) for item in items])  # And() matches everything
        case Or(items=items):
            # An empty `should` would match everything in Qdrant; Or() matches nothing.
            return qe.Filter(should=[_condition(item) for item in items]) if items else _NOTHING
        case Not(item=item):
            return qe.Filter(must_not=[_condition(item)])
    raise TypeError(f"not a filter: {tree!r}")
