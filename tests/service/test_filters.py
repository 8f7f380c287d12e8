"""The Filter language: what parses to which tree, what is refused and how the refusal reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lookalike.domain.errors import BadFilter
from lookalike.domain.filters import And, Compare, Filter, In, Not, Or, matches
from lookalike.domain.image import FILTERABLE_ATTRIBUTES, Attributes, Box, Image
from lookalike.service.filters import format_filter, parse_filter

INT_FIELDS = tuple(name for name, kind in FILTERABLE_ATTRIBUTES.items() if kind is int)
STR_FIELDS = tuple(name for name, kind in FILTERABLE_ATTRIBUTES.items() if kind is str)

A = Compare("int_attr", "=", 1)
B = Compare("int_attr2", "=", 2)
C = Compare("int_attr3", "=", 3)
D = Compare("int_attr4", "=", 4)


def refusal(text: str) -> str:
    """The message of the BadFilter error `text` raises."""
    with pytest.raises(BadFilter) as caught:
        parse_filter(text)
    return caught.value.message


# --- no filter ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\t\n "])
def test_empty_or_blank_means_no_filter(text):
    assert parse_filter(text) is None


# --- conditions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "=", "!="])
def test_every_int_field_takes_every_comparison(field, op):
    assert parse_filter(f"{field}{op}100") == Compare(field, op, 100)


@pytest.mark.parametrize("field", STR_FIELDS)
@pytest.mark.parametrize("op", ["=", "!="])
def test_every_str_field_takes_equality(field, op):
    assert parse_filter(f'{field}{op}"value1"') == Compare(field, op, "value1")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("int_attr in (1, 2, 3)", In("int_attr", (1, 2, 3))),
        ("int_attr4 not in (-1)", In("int_attr4", (-1,), negated=True)),
        ('str_attr in ("a", "b")', In("str_attr", ("a", "b"))),
        ("str_attr3 not in ('a','b')", In("str_attr3", ("a", "b"), negated=True)),
        ("int_attr in(1,1)", In("int_attr", (1, 1))),  # duplicates and order are kept as written
    ],
)
def test_in_and_not_in(text, tree):
    assert parse_filter(text) == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("int_attr=-5", -5),
        ("int_attr=+5", 5),
        ("int_attr=007", 7),
        ("int_attr=-9223372036854775808", -(2**63)),
        ("int_attr=9223372036854775807", 2**63 - 1),
    ],
)
def test_integers(text, value):
    assert parse_filter(text) == Compare("int_attr", "=", value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('str_attr="value1"', "value1"),
        ("str_attr='value1'", "value1"),
        ('str_attr=""', ""),
        ('str_attr="two words AND (more)"', "two words AND (more)"),  # keywords and parens inside are text
        ('str_attr="say \\"hi\\""', 'say "hi"'),
        ("str_attr='it\\'s'", "it's"),
        ('str_attr="it\'s"', "it's"),  # the other quote needs no escape
        ("str_attr='say \"hi\"'", 'say "hi"'),
        ('str_attr="back\\\\slash"', "back\\slash"),
        ('str_attr="连衣裙 ümlaut 🙂"', "连衣裙 ümlaut 🙂"),
        ('str_attr="line\nbreak"', "line\nbreak"),
    ],
)
def test_strings_quotes_and_escapes(text, value):
    assert parse_filter(text) == Compare("str_attr", "=", value)


# --- combining ------------------------------------------------------------------------------------


def test_and_or_chains_are_flat():
    assert parse_filter("int_attr=1 AND int_attr2=2 AND int_attr3=3") == And((A, B, C))
    assert parse_filter("int_attr=1 OR int_attr2=2 OR int_attr3=3") == Or((A, B, C))


def test_and_binds_tighter_than_or():
    assert parse_filter("int_attr=1 OR int_attr2=2 AND int_attr3=3") == Or((A, And((B, C))))
    assert parse_filter("int_attr=1 AND int_attr2=2 OR int_attr3=3") == Or((And((A, B)), C))


def test_parentheses_group_and_leave_no_trace():
    assert parse_filter("(int_attr=1 OR int_attr2=2) AND int_attr3=3") == And((Or((A, B)), C))
    assert parse_filter("((int_attr=1))") == A
    # a group of the same kind merges into its parent: AND and OR are associative
    assert parse_filter("(int_attr=1 AND int_attr2=2) AND (int_attr3=3 AND int_attr4=4)") == And((A, B, C, D))
    assert parse_filter("int_attr=1 OR (int_attr2=2 OR int_attr3=3)") == Or((A, B, C))


def test_nesting():
    text = "int_attr=1 AND (int_attr2=2 OR (int_attr3=3 AND int_attr4=4))"
    assert parse_filter(text) == And((A, Or((B, And((C, D))))))


def test_keywords_and_fields_are_case_insensitive():
    expected = And((A, In("str_attr", ("x",), negated=True), In("int_attr2", (2,))))
    for text in [
        'int_attr=1 AND str_attr NOT IN ("x") AND int_attr2 IN (2)',
        'int_attr=1 and str_attr not in ("x") and int_attr2 in (2)',
        'INT_ATTR=1 And Str_Attr Not In ("x") aNd Int_Attr2 In (2)',
    ]:
        assert parse_filter(text) == expected


def test_whitespace_is_optional_around_symbols_and_free_between_tokens():
    expected = Or((A, In("str_attr", ("a", "b"))))
    assert parse_filter('int_attr=1 OR str_attr in("a","b")') == expected
    assert parse_filter(' \n int_attr \t = \t 1\nOR\nstr_attr  in  (  "a" ,  "b"  )  ') == expected
    assert parse_filter('(int_attr=1)OR(str_attr in("a","b"))') == expected


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # unknown field, and the service's internal fields, which the language does not reach
        ("color=1", "at position 0 (near 'color=1'): unknown field 'color'; filterable fields are int_attr,"),
        ("int_attr=1 OR category_id=3", "at position 14 (near 'category_id=3'): unknown field 'category_id'"),
        ('product_id="p1"', "at position 0 (near 'product_id=\"p1\"'): unknown field 'product_id'"),
        ("int_attr5=1", "at position 0 (near 'int_attr5=1'): unknown field 'int_attr5'"),
        # an operator the field does not have
        (
            'int_attr=1 AND str_attr>="a"',
            "at position 23 (near '>=\"a\"'): str_attr supports = != in, not in",
        ),
        ('str_attr2<"a"', "at position 9 (near '<\"a\"'): str_attr2 supports = != in, not in"),
        ("int_attr==1", "at position 9 (near '=1'): expected an integer for int_attr"),
        ("int_attr like 1", "at position 9 (near 'like 1'): expected an operator; int_attr supports"),
        ("int_attr", "at the end: expected an operator; int_attr supports > >= < <= = != in, not in"),
        # a value of the wrong kind
        ('int_attr="100"', "at position 9 (near '\"100\"'): int_attr takes integers, not strings"),
        ("str_attr=100", "at position 9 (near '100'): str_attr takes strings, in quotes"),
        ("str_attr=value1", "at position 9 (near 'value1'): str_attr takes strings, in quotes"),
        ('int_attr in (1, "2")', "at position 16 (near '\"2\")'): int_attr takes integers, not strings"),
        ("int_attr=1.5", "at position 9 (near '1.5'): '1.5' is not an integer"),
        ("int_attr=1AND int_attr2=2", "at position 9 (near '1AND int_attr2=2'): '1AND' is not an integer"),
        ("int_attr=- 1", "at position 9 (near '- 1'): unexpected character '-'"),
        # a missing value
        ("int_attr>=", "at the end: expected an integer for int_attr"),
        (
            "int_attr>= AND int_attr2=2",
            "at position 11 (near 'AND int_attr2=2'): expected an integer for int_attr",
        ),
        ("str_attr!=", "at the end: expected a quoted string for str_attr"),
        # integers beyond signed 64-bit
        ("int_attr=9223372036854775808", "at position 9 (near '9223372036854775808'): integer out of range"),
        (
            "int_attr>-9223372036854775809",
            "at position 9 (near '-9223372036854775809'): integer out of range",
        ),
        # strings
        ('str_attr="abc', "at position 9 (near '\"abc'): unclosed string: no closing \""),
        ("str_attr='abc\\'", "at position 9 (near \"'abc\\\\'\"): unclosed string: no closing '"),
        (
            'str_attr="a\\nb"',
            "at position 11 (near '\\\\nb\"'): unsupported escape; only \\\" \\' and \\\\ are",
        ),
        # lists
        ("int_attr in ()", "at position 13 (near ')'): an IN list needs at least one value"),
        ("int_attr in (1,)", "at position 15 (near ')'): expected an integer for int_attr"),
        ("int_attr in (1 2)", "at position 15 (near '2)'): expected ',' or ')' in the IN list"),
        ("int_attr in (1, 2", "at the end: expected ',' or ')' in the IN list"),
        ("int_attr in 1", "at position 12 (near '1'): expected '(' to open the IN list"),
        ("int_attr not (1)", "at position 13 (near '(1)'): expected IN after NOT"),
        # structure
        ("int_attr=1 AND", "at the end: expected a condition: a field name or '('"),
        ("int_attr=1 OR AND int_attr2=2", "at position 14 (near 'AND int_attr2=2'): expected a condition"),
        ("AND int_attr=1", "at position 0 (near 'AND int_attr=1'): expected a condition"),
        (
            "NOT int_attr=1",
            "at position 0 (near 'NOT int_attr=1'): expected a condition: a field name or '(' (NOT",
        ),
        ("(int_attr=1", "at the end: expected AND, OR or ')' to close the '(' at position 0"),
        (
            "((int_attr=1) AND int_attr2=2",
            "at the end: expected AND, OR or ')' to close the '(' at position 0",
        ),
        ("int_attr=1)", "at position 10 (near ')'): ')' without a matching '('"),
        ("()", "at position 1 (near ')'): expected a condition"),
        (
            "int_attr=1 int_attr2=2",
            "at position 11 (near 'int_attr2=2'): expected AND, OR or the end of the filter",
        ),
        ("int_attr=1 && int_attr2=2", "at position 11 (near '&& int_attr2=2'): unexpected character '&'"),
        ("int_attr=1;", "at position 10 (near ';'): unexpected character ';'"),
    ],
)
def test_refusals_say_where_and_what(text, message):
    assert refusal(text).startswith(f"Filter is invalid {message}")


def test_the_near_excerpt_is_cut_short():
    text = "int_attr=1 AND bogus=1 AND int_attr2=2 AND int_attr3=3"
    assert refusal(text).startswith(
        "Filter is invalid at position 15 (near 'bogus=1 AND int_attr...'): unknown"
    )


def test_the_first_error_from_the_left_wins():
    # the unclosed quote later on is not reached: the unknown field comes first
    assert "unknown field 'bogus'" in refusal('bogus=1 AND str_attr="abc')


def test_at_most_4096_characters():
    text = "int_attr=1 OR " * 300 + "int_attr=1"  # 4,210 characters
    assert refusal(text) == (
        "Filter is invalid at position 4096 (near '=1 OR int_attr=1 OR ...'): longer than 4096 characters"
    )
    assert parse_filter(" " * 4000 + "int_attr=1") == A  # 4,010 is fine
    assert "longer than 4096" in refusal(" " * 4097)  # the limit applies to the raw text


def test_nesting_depth_is_capped_at_32():
    def nested(depth: int) -> str:
        return "(" * depth + "int_attr=1" + ")" * depth

    assert parse_filter(nested(32)) == A
    assert refusal(nested(33)) == (
        "Filter is invalid at position 32 (near '(int_attr=1)))))))))...'): "
        "parentheses nested deeper than 32 levels"
    )
    assert "nested deeper" in refusal(nested(2000))  # no RecursionError


def test_unicode_digits_and_letters_are_not_ascii_ones():
    assert "unexpected character '٣'" in refusal("int_attr=٣")
    assert "unexpected character '\u0131'" in refusal("\u0131nt_attr=1")  # dotless i


# --- format_filter --------------------------------------------------------------------------------


def test_format_is_canonical_text():
    tree = parse_filter(
        "int_attr >= 100 and (str_attr='a\"b' or str_attr2 not in ('x', 'y')) or int_attr2 in (1)"
    )
    assert format_filter(tree) == (
        'int_attr>=100 AND (str_attr="a\\"b" OR str_attr2 NOT IN ("x", "y")) OR int_attr2 IN (1)'
    )


def test_format_normalises_trees_the_language_cannot_spell_directly():
    # single-item groups vanish; same-kind nesting flattens when re-parsed
    assert format_filter(And((A,))) == "int_attr=1"
    assert parse_filter(format_filter(And((And((A, B)), C)))) == And((A, B, C))
    # Not is pushed to the leaves: negated operators, NOT IN, and De Morgan
    assert format_filter(Not(Compare("int_attr", ">", 5))) == "int_attr<=5"
    assert format_filter(Not(In("str_attr", ("a",)))) == 'str_attr NOT IN ("a")'
    assert format_filter(Not(And((A, Or((B, C)))))) == "int_attr!=1 OR int_attr2!=2 AND int_attr3!=3"
    assert format_filter(Not(Not(A))) == "int_attr=1"


def test_format_still_writes_internal_fields_for_logs():
    tree = And((Compare("category_id", "=", 3), Compare("product_id", "=", "p1")))
    assert format_filter(tree) == 'category_id=3 AND product_id="p1"'


def test_format_refuses_an_empty_group():
    with pytest.raises(ValueError):
        format_filter(Or(()))


# --- properties -----------------------------------------------------------------------------------

# Small value pools make generated records actually hit generated conditions.
ints = st.one_of(st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1))
strs = st.one_of(
    st.sampled_from(["", "a", "b", 'q"uote', "it's", "back\\slash", "连衣裙"]), st.text(max_size=8)
)
int_ops = st.sampled_from([">", ">=", "<", "<=", "=", "!="])
str_ops = st.sampled_from(["=", "!="])

leaves = st.one_of(
    st.builds(Compare, st.sampled_from(INT_FIELDS), int_ops, ints),
    st.builds(Compare, st.sampled_from(STR_FIELDS), str_ops, strs),
    st.builds(
        In, st.sampled_from(INT_FIELDS), st.lists(ints, min_size=1, max_size=3).map(tuple), st.booleans()
    ),
    st.builds(
        In, st.sampled_from(STR_FIELDS), st.lists(strs, min_size=1, max_size=3).map(tuple), st.booleans()
    ),
)


def flat(kind: type[And] | type[Or]):
    """Build `kind` from 2+ children, merging children of the same kind: the parser's canonical shape."""

    def build(children: list[Filter]) -> Filter:
        return kind(tuple(x for c in children for x in (c.items if isinstance(c, kind) else (c,))))

    return build


# Trees the parser can produce: flat, no Not, no single-item groups.
canonical_trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, min_size=2, max_size=3).map(flat(And)),
        st.lists(kids, min_size=2, max_size=3).map(flat(Or)),
    ),
    max_leaves=10,
)

# Any tree over the language's fields and operators: Not, single-item and same-kind nested groups included.
any_trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: Or(tuple(xs))),
        kids.map(Not),
    ),
    max_leaves=10,
)

records = st.builds(
    Image,
    product_id=st.just("p"),
    pic_name=st.just("n"),
    category_id=st.just(0),
    region=st.just(Box(0, 0, 0, 0)),
    attributes=st.builds(
        Attributes, **{name: ints for name in INT_FIELDS}, **{name: strs for name in STR_FIELDS}
    ),
)


@settings(max_examples=200, deadline=None)
@given(canonical_trees)
def test_round_trip_is_exact_for_parser_shaped_trees(tree):
    assert parse_filter(format_filter(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(any_trees, st.lists(records, min_size=1, max_size=5))
def test_format_then_parse_keeps_the_meaning_of_any_tree(tree, some_records):
    reparsed = parse_filter(format_filter(tree))
    for record in some_records:
        assert matches(reparsed, record) == matches(tree, record)


def parse_or_refuse(text: str) -> None:
    try:
        result = parse_filter(text)
    except BadFilter as error:
        assert error.message.startswith("Filter is invalid ")
    else:
        assert result is None or isinstance(result, Compare | In | And | Or)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_is_parsed_or_refused_never_crashes(text):
    parse_or_refuse(text)


pieces = st.sampled_from(
    [*INT_FIELDS, *STR_FIELDS, "category_id", "AND", "or", "not", "IN", "(", ")", ",", "=", "!=", ">=", "<",
     ">", "<=", "==", "0", "-1", "99999999999999999999", '"a"', "'b'", '"x\\"', "\\", " ", "\t", "1.5", "é"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=25))
def test_token_soup_is_parsed_or_refused_never_crashes(parts):
    parse_or_refuse("".join(parts))
    parse_or_refuse(" ".join(parts))


@settings(max_examples=150, deadline=None)
@given(canonical_trees, st.data())
def test_damaged_valid_filters_are_parsed_or_refused_never_crash(tree, data):
    text = format_filter(tree)
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.sampled_from(["", "(", ")", '"', "'", "\\", ",", " AND", "OR ", "x", "="]))
    parse_or_refuse(text[:at] + insert + text[at + cut :])
