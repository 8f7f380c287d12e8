"""The `Filter` language of searches and deletes, parsed into the engine-neutral tree of `store.base`.

    filter     = [ or_expr ]                          (empty or all-whitespace: no filter)
    or_expr    = and_expr { "OR" and_expr }
    and_expr   = primary { "AND" primary }           (AND binds tighter than OR)
    primary    = "(" or_expr ")" | condition
    condition  = int_field ( int_op integer | [ "NOT" ] "IN" "(" integer { "," integer } ")" )
               | str_field ( str_op string  | [ "NOT" ] "IN" "(" string { "," string } ")" )
    int_op     = ">" | ">=" | "<" | "<=" | "=" | "!="
    str_op     = "=" | "!="
    integer    = [ "+" | "-" ] digit { digit }       (ASCII digits, signed 64-bit)
    string     = '"' chars '"' | "'" chars "'"       (escapes: \\" \\' \\\\)

Keywords and field names are case-insensitive; whitespace is optional around operators, parentheses and
commas. Only the eight attribute fields are reachable: the service's own fields (category_id, product_id,
pic_name) are refused as unknown.

The tree is flat and minimal: `a AND b AND c` and `(a AND b) AND c` both give `And((a, b, c))`, an And or Or
always has two or more items and never a direct child of its own kind, parentheses leave no trace, and
`x NOT IN (...)` is `In(..., negated=True)`. The parser never produces `Not`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple, cast

from lookalike.domain.errors import BadFilter
from lookalike.domain.filters import And, Compare, CompareOp, Filter, In, Not, Or
from lookalike.domain.image import FILTERABLE_ATTRIBUTES

MAX_LENGTH = 4096
# Parentheses; keeps the recursive descent (and every engine's compiler) far from the stack limit.
MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_FIELDS = FILTERABLE_ATTRIBUTES
_INT_OPS = (">", ">=", "<", "<=", "=", "!=")
_STR_OPS = ("=", "!=")
_KEYWORDS = ("and", "or", "not", "in")
_ESCAPES = ('"', "'", "\\")

# Explicit ASCII classes rather than \d, \w or IGNORECASE: those admit non-ASCII digits and letters
# (int("٣") == 3, and the Kelvin sign matches [a-z] case-insensitively).
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[+-]?[0-9][A-Za-z0-9_.]*)
  | (?P<op>>=|<=|!=|[<>=])
  | (?P<punct>[(),])
  | (?P<quote>["'])
    """,
    re.VERBOSE,
)


class _Token(NamedTuple):
    kind: str  # word, int, str, op, one of ( ) , or end
    value: int | str  # lower-cased for words, unescaped for strings
    pos: int


def _fail(text: str, pos: int, what: str) -> BadFilter:
    if pos >= len(text):
        where = "at the end"
    else:
        near = text[pos : pos + 20] + ("..." if len(text) > pos + 20 else "")
        where = f"at position {pos} (near {near!r})"
    return BadFilter(f"Filter is invalid {where}: {what}")


def _tokens(text: str) -> Iterator[_Token]:
    """Tokens on demand, so an error earlier in the text is reported before a lexical one later on."""
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _fail(text, pos, f"unexpected character {text[pos]!r}")
        kind, lexeme = m.lastgroup, m.group()
        if kind == "word":
            yield _Token("word", lexeme.lower(), pos)
        elif kind == "number":
            if not re.fullmatch(r"[+-]?[0-9]+", lexeme):
                raise _fail(text, pos, f"{lexeme!r} is not an integer")
            value = int(lexeme)
            if not INT_MIN <= value <= INT_MAX:
                raise _fail(text, pos, "integer out of range (signed 64-bit)")
            yield _Token("int", value, pos)
        elif kind == "op":
            yield _Token("op", lexeme, pos)
        elif kind == "punct":
            yield _Token(lexeme, lexeme, pos)
        elif kind == "quote":
            string, end = _string(text, pos)
            yield _Token("str", string, pos)
            pos = end
            continue
        pos = m.end()
    while True:  # the parser may look at the end as often as it likes
        yield _Token("end", "", len(text))


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted string opening at `start`, and the position just after it."""
    quote, pos = text[start], start + 1
    chars: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(chars), pos + 1
        if char == "\\":
            if pos + 1 >= len(text):
                break
            if text[pos + 1] not in _ESCAPES:
                raise _fail(text, pos, "unsupported escape; only \\\" \\' and \\\\ are allowed in strings")
            char = text[pos + 1]
            pos += 1
        chars.append(char)
        pos += 1
    raise _fail(text, start, f"unclosed string: no closing {quote}")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.tok = next(self.tokens)
        self.depth = 0

    def fail(self, tok: _Token, what: str) -> BadFilter:
        return _fail(self.text, tok.pos, what)

    def advance(self) -> _Token:
        tok, self.tok = self.tok, next(self.tokens)
        return tok

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "word" and self.tok.value == word:
            self.advance()
            return True
        return False

    def parse(self) -> Filter:
        tree = self.or_expr()
        if self.tok.kind == ")":
            raise self.fail(self.tok, "')' without a matching '('")
        if self.tok.kind != "end":
            raise self.fail(self.tok, "expected AND, OR or the end of the filter")
        return tree

    def or_expr(self) -> Filter:
        items = [self.and_expr()]
        while self.keyword("or"):
            items.append(self.and_expr())
        return _join(Or, items)

    def and_expr(self) -> Filter:
        items = [self.primary()]
        while self.keyword("and"):
            items.append(self.primary())
        return _join(And, items)

    def primary(self) -> Filter:
        tok = self.tok
        if tok.kind == "(":
            if self.depth >= MAX_DEPTH:
                raise self.fail(tok, f"parentheses nested deeper than {MAX_DEPTH} levels")
            self.depth += 1
            self.advance()
            tree = self.or_expr()
            if self.tok.kind != ")":
                raise self.fail(self.tok, f"expected AND, OR or ')' to close the '(' at position {tok.pos}")
            self.advance()
            self.depth -= 1
            return tree
        if tok.kind != "word" or tok.value in _KEYWORDS:
            hint = " (NOT is only supported as NOT IN)" if tok.value == "not" else ""
            raise self.fail(tok, f"expected a condition: a field name or '('{hint}")
        if tok.value not in _FIELDS:
            name = self.text[tok.pos : tok.pos + len(str(tok.value))]
            raise self.fail(tok, f"unknown field {name!r}; filterable fields are {', '.join(_FIELDS)}")
        return self.condition(str(self.advance().value))

    def condition(self, field: str) -> Filter:
        kind, tok = _FIELDS[field], self.tok
        ops = _INT_OPS if kind is int else _STR_OPS
        supported = f"{field} supports {' '.join(ops)} in, not in"
        if tok.kind == "word" and tok.value in ("in", "not"):
            self.advance()
            negated = tok.value == "not"
            if negated and not self.keyword("in"):
                raise self.fail(self.tok, "expected IN after NOT")
            if self.tok.kind != "(":
                raise self.fail(self.tok, "expected '(' to open the IN list")
            self.advance()
            if self.tok.kind == ")":
                raise self.fail(self.tok, "an IN list needs at least one value")
            values = [self.value(field, kind)]
            while self.tok.kind == ",":
                self.advance()
                values.append(self.value(field, kind))
            if self.tok.kind != ")":
                raise self.fail(self.tok, "expected ',' or ')' in the IN list")
            self.advance()
            return In(field, tuple(values), negated)
        if tok.kind != "op":
            raise self.fail(tok, f"expected an operator; {supported}")
        if tok.value not in ops:
            raise self.fail(tok, supported)
        self.advance()
        return Compare(field, cast(CompareOp, tok.value), self.value(field, kind))

    def value(self, field: str, kind: type) -> int | str:
        tok = self.tok
        if (kind is int and tok.kind == "int") or (kind is str and tok.kind == "str"):
            return self.advance().value
        if kind is int and tok.kind == "str":
            raise self.fail(tok, f"{field} takes integers, not strings")
        if kind is str and tok.kind in ("int", "word"):
            raise self.fail(tok, f'{field} takes strings, in quotes: {field}="value"')
        raise self.fail(tok, f"expected {'an integer' if kind is int else 'a quoted string'} for {field}")


def _join(kind: type[And] | type[Or], items: list[Filter]) -> Filter:
    flat: list[Filter] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def parse_filter(text: str | None) -> Filter | None:
    """The tree of a `Filter` parameter; None when there is no filter. Raises BadFilter."""
    if text is None:
        return None
    if len(text) > MAX_LENGTH:
        raise _fail(text, MAX_LENGTH, f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        return None
    return _Parser(text).parse()


_NEGATED = {"=": "!=", "!=": "=", ">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def format_filter(tree: Filter) -> str:
    """Canonical text for a tree: `int_attr>=1 AND (str_attr="a" OR str_attr2 NOT IN ("b", "c"))`.

    Keywords upper-case, strings double-quoted, parentheses only where AND would otherwise bind an OR.
    `Not` is pushed down to the leaves (De Morgan, negated operators) since the language has no NOT.
    The text re-parses to the same tree once normalised as the module docstring says, provided the tree
    names only attribute fields with operators the language has; any other tree is still formatted (for logs).
    """
    return _format(tree, negate=False, in_and=False)


def _format(tree: Filter, *, negate: bool, in_and: bool) -> str:
    match tree:
        case Compare(field=field, op=op, value=value):
            return f"{field}{_NEGATED[op] if negate else op}{_literal(value)}"
        case In(field=field, values=values, negated=negated):
            keyword = "NOT IN" if negated != negate else "IN"
            return f"{field} {keyword} ({', '.join(map(_literal, values))})"
        case Not(item=item):
            return _format(item, negate=not negate, in_and=in_and)
        case And(items=items) | Or(items=items):
            if not items:
                raise ValueError(f"an empty {type(tree).__name__} has no text form")
            if len(items) == 1:
                return _format(items[0], negate=negate, in_and=in_and)
            is_and = isinstance(tree, And) != negate
            text = (" AND " if is_and else " OR ").join(
                _format(item, negate=negate, in_and=is_and) for item in items
            )
            return f"({text})" if in_and and not is_and else text
    raise TypeError(f"not a filter: {tree!r}")


def _literal(value: int | str) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)
