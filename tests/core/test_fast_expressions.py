"""The fast expression reader against lark: the same terminals, the same trees, and lark's word on every error.

`parse_expression` reads well-formed text with a hand-written recursive-descent parser and leaves everything
else to the lark grammar. These tests hold the two together: wherever the fast path gives a tree it is the
tree lark and the builder give (positions included), every expression the grammar accepts is taken by the
fast path, and what it refuses still gets lark's message.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from survey_tui.core.instrument import expressions as ex
from survey_tui.core.instrument.expressions import ExpressionError, parse_expression


def _lark(text: str) -> tuple[str, object]:
    """What the lark path gives: ('ok', tree) or ('error', message, position)."""
    try:
        tree = ex._parser().parse(text)
    except UnexpectedInput as exc:
        error = ex._translate_error(exc, text)
        return ("error", (error.message, error.position))
    try:
        return ("ok", ex._Builder(text).build(tree))
    except ExpressionError as error:
        return ("error", (error.message, error.position))


def _fast(text: str) -> tuple[str, object] | None:
    try:
        root = ex._fast_parse(text)
    except ExpressionError as error:
        return ("error", (error.message, error.position))
    return None if root is None else ("ok", root)


def test_the_terminals_are_lark_s_in_lark_s_order() -> None:
    lexer = ex._parser().parser.lexer
    theirs = [(t.name, t.pattern.to_regexp()) for t in lexer.terminals]
    ours = [(name, pattern) for name, pattern in ex._TERMINALS]
    # the one difference: NUMBER's group does not capture, so the match names its terminal
    assert ours == [(name, re.sub(r"\(\\\.", r"(?:\\.", pattern)) for name, pattern in theirs]
    assert lexer.ignore_types == {"WS"}


_ATOMS = st.sampled_from(
    [
        "x",
        "q_1",
        "${q1}",
        "12",
        "3.25",
        ".5",
        "'s'",
        '"t\\"q"',
        "TRUE",
        "false",
        "Null",
        ".",
        "１２",
        "android",
        "orx",
        "in_x",
        "item()",
        "iteration()",
    ]  # fmt: skip
)
_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    op = st.sampled_from
    two = st.tuples(children, children)
    args = st.lists(children, min_size=0, max_size=3).map(", ".join)
    return st.one_of(
        children.map(lambda a: f"({a})"),
        st.tuples(children, op(["or", "OR", "and", "And"]), children).map(" ".join),
        children.map(lambda a: f"not {a}"),
        st.tuples(children, _SPACE, op(["=", "==", "!=", "<", "<=", ">", ">="]), _SPACE, children).map("".join),
        st.tuples(children, op(["in", "not in", "NOT IN"]), st.lists(children, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]} {t[1]} ({', '.join(t[2])})"
        ),
        st.tuples(children, _SPACE, op(list("+-*/%")), _SPACE, children).map("".join),
        st.tuples(_SPACE, children).map(lambda t: f"-{t[0]}{t[1]}"),
        st.tuples(op(["selected", "SELECTED", "indexed"]), op(["1", "'2'", "1.5", "y", "-3", "' 4 '"])).map(
            lambda t: f"{t[0]}(x, {t[1]})"
        ),
        st.tuples(op(["count_selected", "answered", "dont_know", "refused"]), children).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(op(["if", "min", "max", "coalesce", "round", "abs", "length", "foo", "mn"]), args).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        two.map(lambda t: f"round({t[0]}, {t[1]})"),
    )


_EXPRESSIONS = st.recursive(_ATOMS, _combine, max_leaves=12)
_NOISE = st.sampled_from(["(", ")", ",", "and", "not", "in", "=", "-", "*", "!", "&", "$", "'", "foo(", " "])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPRESSIONS)
def test_every_expression_the_grammar_accepts_is_read_the_same_by_the_fast_path(text: str) -> None:
    expected = _lark(text)
    got = _fast(text)
    if expected[0] == "ok":
        assert got == expected
    else:  # an error: either the fast path hands it to lark, or it is an error there too
        assert got is None or got[0] == "error"
        with pytest.raises(ExpressionError) as raised:
            parse_expression.__wrapped__(text)
        assert (raised.value.message, raised.value.position) == expected[1]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPRESSIONS, st.integers(min_value=0, max_value=200), _NOISE, st.booleans())
def test_damaged_expressions_get_lark_s_message(text: str, at: int, noise: str, insert: bool) -> None:
    at = at % (len(text) + 1)
    damaged = text[:at] + noise + text[at:] if insert else text[:at] + text[at + 1 :]
    if not damaged.strip():
        return
    expected = _lark(damaged)
    got = _fast(damaged)
    assert got is None or got == expected
    if expected[0] == "error":
        with pytest.raises(ExpressionError) as raised:
            parse_expression.__wrapped__(damaged)
        assert (raised.value.message, raised.value.position) == expected[1]
    else:
        assert parse_expression.__wrapped__(damaged).root == expected[1]


def test_long_chains_are_read_without_lark_and_too_deep_ones_refused_as_before() -> None:
    chain = " or ".join(f"x = {k}" for k in range(300))
    assert _fast(chain) == _lark(chain)
    deep = " or ".join(["x = 1"] * 3000)  # deeper than the builder's recursion: refused, as lark's path does
    with pytest.raises(ExpressionError, match="too deeply nested"):
        parse_expression.__wrapped__(deep)


def test_parentheses_nested_past_the_limit_are_a_located_error() -> None:
    inside = "(" * ex.MAX_PARENTHESES + "x" + ")" * ex.MAX_PARENTHESES
    assert parse_expression.__wrapped__(inside).root == ex.Name("x", ex.MAX_PARENTHESES + 1)
    text = "a = 1 and " + "(" * (ex.MAX_PARENTHESES + 1) + "x" + ")" * (ex.MAX_PARENTHESES + 1)
    with pytest.raises(ExpressionError) as raised:
        parse_expression.__wrapped__(text)
    assert raised.value.message == f"expression nests parentheses deeper than {ex.MAX_PARENTHESES} levels"
    assert raised.value.position == len("a = 1 and ") + ex.MAX_PARENTHESES + 1  # the first '(' too many


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPRESSIONS)
def test_the_names_gathered_while_reading_are_the_walk_s(text: str) -> None:
    """parse_expression fills Expression._scan from the reader (a walk of deep trees was a third of `check`)."""
    try:
        parsed = parse_expression.__wrapped__(text)
    except ExpressionError:
        return
    assert "_scan" in parsed.__dict__  # filled by the reader, not by a walk
    assert parsed._scan == ex.Expression(text, parsed.root)._scan  # a fresh Expression walks its tree


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EXPRESSIONS, st.integers(min_value=0, max_value=200), _NOISE, st.booleans())
def test_unworded_errors_are_raised_exactly_where_lark_refuses(text: str, at: int, noise: str, insert: bool) -> None:
    """word_errors=False (the loader past its first errors) refuses what lark refuses, takes what it takes,
    and points inside the text."""
    at = at % (len(text) + 1)
    damaged = text[:at] + noise + text[at:] if insert else text[:at] + text[at + 1 :]
    if not damaged.strip():
        return
    expected = _lark(damaged)
    try:
        got = parse_expression.__wrapped__(damaged, word_errors=False)
    except ExpressionError as error:
        assert expected[0] == "error"
        assert 1 <= error.position <= len(damaged) + 1
    else:
        assert expected == ("ok", got.root)
