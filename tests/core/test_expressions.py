"""Tests for the survey expression language: syntax, semantics, errors and polars equivalence."""

from __future__ import annotations

import math
import pickle
import random

import polars as pl
import pytest

from survey_tui.core.instrument.expressions import (
    FUNCTIONS,
    Binary,
    Call,
    Compare,
    DictScope,
    Expression,
    ExpressionError,
    Literal,
    Logical,
    Membership,
    Name,
    NameRef,
    Node,
    Not,
    SelfRef,
    Unary,
    WideFrameResolver,
    parse_expression,
    to_polars_filter,
    truthy,
)


def shape(node: Node) -> str:
    """Position-free rendering of an AST, so tests can compare structure."""
    match node:
        case Literal(value=value):
            return repr(value)
        case Name(name=name):
            return name
        case SelfRef():
            return "."
        case Unary(op=op, operand=operand):
            return f"({op} {shape(operand)})"
        case Not(operand=operand):
            return f"(not {shape(operand)})"
        case Binary(op=op, left=left, right=right) | Compare(op=op, left=left, right=right):
            return f"({op} {shape(left)} {shape(right)})"
        case Logical(op=op, left=left, right=right):
            return f"({op} {shape(left)} {shape(right)})"
        case Membership(operand=operand, items=items, negated=negated):
            keyword = "not-in" if negated else "in"
            return f"({keyword} {shape(operand)} {' '.join(shape(item) for item in items)})"
        case Call(function=function, args=args):
            return f"({function} {' '.join(shape(arg) for arg in args)})"
    raise AssertionError(node)


def ev(text: str, values: dict[str, object] | None = None, specials: dict[str, str] | None = None) -> object:
    return parse_expression(text).evaluate(DictScope(values or {}, specials or {}))


def evb(text: str, values: dict[str, object] | None = None, specials: dict[str, str] | None = None) -> bool:
    return parse_expression(text).evaluate_bool(DictScope(values or {}, specials or {}))


# --------------------------------------------------------------------------------------------------
# Syntax
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", "42"),
        ("3.5", "3.5"),
        (".5", "0.5"),
        ("'single'", "'single'"),
        ('"double"', "'double'"),
        (r"'it\'s'", '"it\'s"'),
        ("''", "''"),
        ("true", "True"),
        ("FALSE", "False"),
        ("Null", "None"),
        ("age", "age"),
        ("${age}", "age"),
        ("_q_2", "_q_2"),
        (".", "."),
        ("android", "android"),  # starts with a keyword but is a name
        ("notes", "notes"),
        ("a = 1", "(= a 1)"),
        ("a == 1", "(= a 1)"),
        ("a != 1", "(!= a 1)"),
        ("a < 1", "(< a 1)"),
        ("a <= 1", "(<= a 1)"),
        ("a > 1", "(> a 1)"),
        ("a >= 1", "(>= a 1)"),
        ("a in (1, 2, 3)", "(in a 1 2 3)"),
        ("a not in ('x')", "(not-in a 'x')"),
        ("a NOT IN (1)", "(not-in a 1)"),
        ("a and b", "(and a b)"),
        ("a AND b Or c", "(or (and a b) c)"),
        ("not a", "(not a)"),
        ("a + b - c", "(- (+ a b) c)"),
        ("a * b / c % d", "(% (/ (* a b) c) d)"),
        ("-a", "(- a)"),
        ("-3", "-3"),
        ("--a", "(- (- a))"),
        ("selected(${q}, 2)", "(selected q 2)"),
        ("selected(q, '2')", "(selected q 2)"),  # XLSForm style quoted code
        ("SELECTED(q, -1)", "(selected q -1)"),
        ("if(a, 1, 'x')", "(if a 1 'x')"),
        ("min(a)", "(min a)"),
        ("max(a, b, 3)", "(max a b 3)"),
        ("round(x)", "(round x)"),
        ("round(x, 2)", "(round x 2)"),
        ("coalesce(a, b, 0)", "(coalesce a b 0)"),
        ("  a\n  =\t1 ", "(= a 1)"),
    ],
)
def test_parses_syntax(text: str, expected: str) -> None:
    assert shape(parse_expression(text).root) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c and d", "(or (and a b) (and c d))"),
        ("not a and b", "(and (not a) b)"),
        ("not a = 1", "(not (= a 1))"),
        ("not not a", "(not (not a))"),
        ("a = 1 + 2 * 3", "(= a (+ 1 (* 2 3)))"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("-a * b", "(* (- a) b)"),
        ("-(a + b)", "(- (+ a b))"),
        ("a - -b", "(- a (- b))"),
        ("a + b in (1, 2)", "(in (+ a b) 1 2)"),
        ("a < b and c >= d", "(and (< a b) (>= c d))"),
        ("a = 1 or not b in (2) and c", "(or (= a 1) (and (not (in b 2)) c))"),
        ("10 - 4 - 3", "(- (- 10 4) 3)"),
        ("a / b * c", "(* (/ a b) c)"),
    ],
)
def test_precedence_and_associativity(text: str, expected: str) -> None:
    assert shape(parse_expression(text).root) == expected


def test_precedence_values() -> None:
    assert ev("1 + 2 * 3") == 7
    assert ev("(1 + 2) * 3") == 9
    assert ev("10 - 4 - 3") == 3
    assert ev("-2 * 3") == -6
    assert ev("2 * -3 + 1") == -5
    assert ev("7 % 4 * 2") == 6
    assert ev("true or false and false") is True
    assert ev("not 1 = 2") is True  # not (1 = 2); (not 1) = 2 would be false


def test_dollar_brace_is_the_same_name() -> None:
    plain, xls = parse_expression("age >= 18"), parse_expression("${age} >= 18")
    assert shape(plain.root) == shape(xls.root)
    assert plain.names == xls.names == frozenset({"age"})
    assert xls.evaluate_bool(DictScope({"age": 20}))


def test_references_with_positions_and_self() -> None:
    expr = parse_expression("selected(${brands}, 2) and age > . + min(age, ${b})")
    assert expr.references == (
        NameRef("brands", 10),
        NameRef("age", 28),
        NameRef("age", 42),
        NameRef("b", 47),
    )
    assert expr.names == frozenset({"brands", "age", "b"})
    assert expr.uses_self
    assert not parse_expression("age > 3").uses_self
    assert parse_expression("1 + 2").references == ()


def test_parse_is_cached_and_expression_is_immutable_and_hashable() -> None:
    first = parse_expression("a = 1 and b")
    assert parse_expression("a = 1 and b") is first
    assert isinstance(first, Expression)
    assert str(first) == "a = 1 and b"
    assert hash(first) == hash(Expression(first.text, first.root))
    with pytest.raises(AttributeError):
        first.text = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Semantics
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # arithmetic with None is None
        ("x + 1", {}, None),
        ("x * 2", {"x": None}, None),
        ("-x", {}, None),
        ("x / 0", {"x": 5}, None),
        ("x % 0", {"x": 5}, None),
        ("x / 0.0", {"x": 5.0}, None),
        ("x / 2", {"x": 5}, 2.5),
        ("-7 % 3", {}, 2),  # floor modulo: sign follows the divisor
        ("7 % -3", {}, -2),
        ("'a' + 1", {}, None),
        ("'a' + 'b'", {}, None),
        ("true + true", {}, 2),
        ("-true", {}, -1),
        ("q + 1", {"q": [1, 2]}, None),
        # equality
        ("x = null", {}, True),
        ("x == null", {"x": 3}, False),
        ("x = 3", {}, False),
        ("x != 3", {}, True),
        ("x != null", {}, False),
        ("null = null", {}, True),
        ("x = y", {}, True),
        ("1 = '1'", {}, False),
        ("1 != '1'", {}, True),
        ("1 = 1.0", {}, True),
        ("true = 1", {}, True),
        ("q = 1", {"q": [1]}, False),
        ("q = null", {"q": []}, False),
        # ordering with None or mixed kinds is false
        ("x < 3", {}, False),
        ("x >= 3", {}, False),
        ("3 > x", {}, False),
        ("x <= null", {}, False),
        ("'a' < 1", {}, False),
        ("'a' < 'b'", {}, True),
        ("q < q", {"q": [1]}, False),
        # membership
        ("x in (1, 2)", {}, False),
        ("x not in (1, 2)", {}, True),
        ("x in (null)", {}, False),
        ("x in (1, null)", {"x": 2}, False),
        ("x in (1, 2)", {"x": 2}, True),
        ("x in ('2')", {"x": 2}, False),
        ("x not in (1, 2)", {"x": 2}, False),
        # boolean operators treat None as false and return strict bools
        ("x and true", {}, False),
        ("x or true", {}, True),
        ("x or false", {}, False),
        ("not x", {}, True),
        ("not not x", {"x": 5}, True),
        ("x and 1", {"x": 0}, False),
        ("x or 0", {"x": ""}, False),
        ("x or 0", {"x": "a"}, True),
        ("q and 1", {"q": []}, False),
        # if()
        ("if(x, 'a', 'b')", {}, "b"),
        ("if(x, 'a', 'b')", {"x": 1}, "a"),
        ("if(x > 1, x, null)", {"x": 0}, None),
    ],
)
def test_missing_value_semantics(text: str, values: dict[str, object], expected: object) -> None:
    result = ev(text, values)
    assert result == expected
    assert type(result) is type(expected)


def test_special_codes_hide_the_value() -> None:
    scope = DictScope({"age": 98}, {"age": "dont_know"})
    assert scope.value("age") is None
    assert scope.special("age") == "dont_know"
    assert parse_expression("age = null").evaluate_bool(scope)
    assert not parse_expression("answered(age)").evaluate_bool(scope)
    assert parse_expression("dont_know(age)").evaluate_bool(scope)
    assert not parse_expression("refused(age)").evaluate_bool(scope)


def test_evaluate_bool_is_strict() -> None:
    for text, values in [("x", {}), ("x + 1", {}), ("if(1, null, 2)", {}), ("length(x)", {"x": ""})]:
        result = evb(text, values)
        assert result is False
    assert evb("x", {"x": "yes"}) is True
    assert evb("x", {"x": 2.5}) is True
    assert evb("x", {"x": [3]}) is True


def test_self_value() -> None:
    expr = parse_expression(". >= 0 and . <= 120")
    assert expr.evaluate_bool(DictScope({}), 35)
    assert not expr.evaluate_bool(DictScope({}), 130)
    assert not expr.evaluate_bool(DictScope({}), None)
    assert parse_expression("length(.) <= 3").evaluate(DictScope({}), "abcd") is False


@pytest.mark.parametrize(
    ("text", "values", "specials", "expected"),
    [
        ("selected(q, 2)", {"q": [1, 2]}, {}, True),
        ("selected(q, 3)", {"q": [1, 2]}, {}, False),
        ("selected(q, 2)", {"q": 2}, {}, True),  # single choice: equality
        ("selected(q, 2)", {"q": 3}, {}, False),
        ("selected(q, 2)", {}, {}, False),
        ("selected(q, '2')", {"q": [2]}, {}, True),
        ("selected(q, 98)", {"q": 98}, {"q": "dont_know"}, False),
        ("count_selected(q)", {"q": [1, 4, 5]}, {}, 3),
        ("count_selected(q)", {"q": []}, {}, 0),
        ("count_selected(q)", {"q": 4}, {}, 1),
        ("count_selected(q)", {}, {}, 0),
        ("answered(q)", {"q": 0}, {}, True),
        ("answered(q)", {"q": ""}, {}, True),
        ("answered(q)", {"q": []}, {}, True),
        ("answered(q)", {}, {}, False),
        ("answered(q)", {"q": 9}, {"q": "refused"}, False),
        ("dont_know(q)", {}, {"q": "dont_know"}, True),
        ("dont_know(q)", {}, {"q": "refused"}, False),
        ("refused(q)", {}, {"q": "refused"}, True),
        ("refused(q)", {"q": 1}, {}, False),
        ("if(a > 1, 'big', 'small')", {"a": 2}, {}, "big"),
        ("if(a > 1, 'big', 'small')", {"a": 1}, {}, "small"),
        ("if(a, 1, 2)", {}, {}, 2),
        ("min(3, 1, 2)", {}, {}, 1),
        ("min(a, 5)", {}, {}, 5),
        ("min(a, b)", {}, {}, None),
        ("max(1, 2.5, a)", {"a": -1}, {}, 2.5),
        ("max('a', 'b')", {}, {}, "b"),
        ("max('a', 1)", {}, {}, None),
        ("round(2.5)", {}, {}, 3.0),
        ("round(-2.5)", {}, {}, -3.0),
        ("round(2.4)", {}, {}, 2.0),
        ("round(1.25, 1)", {}, {}, 1.3),
        ("round(7)", {}, {}, 7),
        ("round(a, 2)", {}, {}, None),
        ("round('x')", {}, {}, None),
        ("abs(-3)", {}, {}, 3),
        ("abs(a)", {"a": -2.5}, {}, 2.5),
        ("abs(a)", {}, {}, None),
        ("abs('x')", {}, {}, None),
        ("length(s)", {"s": "héllo"}, {}, 5),
        ("length(s)", {"s": ""}, {}, 0),
        ("length(s)", {}, {}, None),
        ("length(s)", {"s": 123}, {}, None),
        ("coalesce(a, b, 0)", {"b": 7}, {}, 7),
        ("coalesce(a, b, 0)", {}, {}, 0),
        ("coalesce(a, b)", {}, {}, None),
        ("coalesce(a, 1)", {"a": 0}, {}, 0),
    ],
)
def test_functions(text: str, values: dict[str, object], specials: dict[str, str], expected: object) -> None:
    result = ev(text, values, specials)
    assert result == expected
    assert type(result) is type(expected)


def test_function_table_is_complete() -> None:
    assert set(FUNCTIONS) == {
        "selected",
        "count_selected",
        "answered",
        "dont_know",
        "refused",
        "if",
        "min",
        "max",
        "round",
        "abs",
        "length",
        "coalesce",
        "item",
        "iteration",
        "indexed",
    }


def test_truthy() -> None:
    assert [truthy(v) for v in (None, 0, 0.0, "", [], False)] == [False] * 6
    assert [truthy(v) for v in (1, -0.5, "x", [0], True)] == [True] * 5


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty expression", 1),
        ("   ", "empty expression", 1),
        ("a = = 1", "expected a value, found '='", 5),
        ("a and", "expected a value", 6),
        ("a =  ", "expected a value", 4),
        ("(a = 1", "unclosed parenthesis", 1),
        ("a and (b or (c = 1)", "unclosed parenthesis", 7),
        ("x in (1, 2", "unclosed parenthesis", 6),
        ("a = 1)", "unexpected ')'", 6),
        ("(a = 1))", "unexpected ')'", 8),
        ("a = (1 + )", "expected a value, found ')'", 10),
        ("a b", "unexpected name 'b', expected an operator", 3),
        ("a < b < c", "unexpected '<' (comparisons cannot be chained; use 'and')", 7),
        ("x in 1", "expected '(', found number 1", 6),
        ("x not 3", "expected 'in', found number 3", 7),
        ("a = 'abc", "unterminated string", 5),
        ("a # 1", "unexpected character '#'", 3),
        ("a && b", "unexpected character '&' (use 'and' / 'or')", 3),
        ("!a", "unexpected character '!' (use 'not' or '!=')", 1),
        ("${1a} = 1", "malformed ${name} reference", 1),
        ("and = 1", "expected a value, found 'and'", 1),
        ("foo(1)", "unknown function 'foo'", 1),
        ("x > 1 and slected(q, 1)", "unknown function 'slected', did you mean 'selected'?", 11),
        ("a + abs(1, 2)", "abs() takes 1 argument, got 2", 5),
        ("if(a, b)", "if() takes 3 arguments, got 2", 1),
        ("round()", "round() takes 1 to 2 arguments, got 0", 1),
        ("min()", "min() takes at least 1 argument, got 0", 1),
        ("selected(q)", "selected() takes 2 arguments, got 1", 1),
        ("answered(1)", "first argument of answered() must be a question name", 10),
        ("count_selected(.)", "first argument of count_selected() must be a question name", 16),
        ("selected('q', 1)", "first argument of selected() must be a question name", 10),
        ("selected(q, 'x')", "second argument of selected() must be a whole-number choice code", 13),
        ("round(x, 1.5)", "digits of round() must be a whole number from 0 to 15", 10),
        ("round(x, -1)", "digits of round() must be a whole number from 0 to 15", 10),
    ],
)
def test_error_messages_and_positions(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    error = info.value
    assert error.message == message
    assert error.position == position
    assert error.text == text
    assert str(error) == f"{message} at position {position}"
    assert isinstance(error, ValueError)
    # no lark internals leak out: nothing chained, or the lark exception is suppressed
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_absurdly_deep_expression_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="too deeply nested"):
        parse_expression(" + ".join(["a"] * 5000))


def test_error_caret_and_pickle() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("a = 1)")
    assert info.value.caret == "a = 1)\n     ^"
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.message, clone.position, clone.text) == ("unexpected ')'", 6, "a = 1)")


def test_polars_compile_errors() -> None:
    resolver = WideFrameResolver(schema={"s": pl.String, "n": pl.Int64})
    with pytest.raises(ExpressionError, match="'.' is only available"):
        parse_expression(". > 1").to_polars(resolver)
    with pytest.raises(ExpressionError) as info:
        parse_expression("n > 1 and if(n, s, 1) = 1").to_polars(resolver)
    assert info.value.position == 11
    assert "mix kinds" in info.value.message
    with pytest.raises(ExpressionError, match="mix kinds"):
        parse_expression("coalesce(n, 'none')").to_polars(resolver)


# --------------------------------------------------------------------------------------------------
# Polars
# --------------------------------------------------------------------------------------------------

MULTI = {"brands": [1, 2, 3, 4, 98]}
SPECIALS = {
    "age": {98: "dont_know", 99: "refused"},
    "gender": {9: "refused"},
    "brands": {98: "dont_know"},
}


def decimal(rng: random.Random) -> float:
    """A random number with 0-3 decimals, the kind of value a numeric question holds."""
    return round(rng.uniform(-10, 10), rng.randint(0, 3))


def random_frame(rows: int = 200, seed: int = 20240517) -> pl.DataFrame:
    rng = random.Random(seed)

    def maybe(value: object, p_null: float = 0.15) -> object:
        return None if rng.random() < p_null else value

    data: dict[str, list[object]] = {
        "age": [maybe(rng.choice([rng.randint(10, 80), 98, 99, 30])) for _ in range(rows)],
        "gender": [maybe(rng.choice([1, 2, 3, 9])) for _ in range(rows)],
        "score": [maybe(rng.choice([decimal(rng), 0.0, 2.5, -2.5])) for _ in range(rows)],
        "zero": [maybe(rng.choice([0, 0, 1, 2, -3])) for _ in range(rows)],
        "city": [maybe(rng.choice(["Paris", "Lyon", "", "Saint-Étienne", "Nice"])) for _ in range(rows)],
        "flag": [maybe(rng.random() < 0.5) for _ in range(rows)],
    }
    for code in MULTI["brands"]:
        data[f"brands_{code}"] = []
    for _ in range(rows):
        unanswered = rng.random() < 0.15
        dont_know = rng.random() < 0.1
        for code in MULTI["brands"]:
            if unanswered:
                cell = None
            elif code == 98:
                cell = int(dont_know)
            else:
                cell = int(rng.random() < 0.4)
            data[f"brands_{code}"].append(cell)
    schema = {
        "age": pl.Int64,
        "gender": pl.Int64,
        "score": pl.Float64,
        "zero": pl.Int64,
        "city": pl.String,
        "flag": pl.Boolean,
        **{f"brands_{code}": pl.Int64 for code in MULTI["brands"]},
    }
    return pl.DataFrame(data, schema=schema)


EQUIVALENCE_EXPRESSIONS = [
    "age >= 18 and age < 65",
    "age = null",
    "age != 30",
    "not answered(age)",
    "dont_know(age) or refused(gender)",
    "refused(age)",
    "selected(brands, 2) and not selected(brands, 4)",
    "selected(brands, 98)",
    "count_selected(brands) >= 2",
    "answered(brands)",
    "dont_know(brands)",
    "brands = null",
    "gender in (1, 3)",
    "gender not in (2)",
    "selected(gender, 1)",
    "count_selected(gender) = 1",
    "score / zero > 1",
    "score / zero = null",
    "age % zero >= 1",
    "score % 3 >= 1",
    "-score < -1.5",
    "round(score) >= 2",
    "round(score, 1) * 10 = round(score * 10)",
    "abs(score - 5) < 3",
    "length(city) > 4",
    "length(age) = null",
    "city = 'Paris'",
    "city",
    "city in ('Paris', 'Lyon') or city = null",
    "city < 'M'",
    "min(city, 'M') = 'M'",
    "coalesce(city, 'none') != 'none'",
    "if(flag, age, score) > 20",
    "if(answered(age), age, 0) + 1 > 30",
    "coalesce(age, gender, 0) > 1",
    "min(age, score) < 10",
    "max(age, score, 40) = 40",
    "flag = true",
    "flag != false",
    "not flag",
    "flag + 1 = 2",
    "age + score * 2 - zero >= 50",
    "(age > 30 or score > 5) and not (gender = 2)",
    "age",
    "score",
    "${age} >= ${gender} * 10",
    "age = '30'",
    "age < 'x'",
    "not (age in (98, 99))",
    "zero = false",
]


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return random_frame()


@pytest.fixture(scope="module")
def resolver(frame: pl.DataFrame) -> WideFrameResolver:
    return WideFrameResolver(multi_codes=MULTI, special_codes=SPECIALS, schema=frame.schema)


def test_polars_matches_python_row_by_row(frame: pl.DataFrame, resolver: WideFrameResolver) -> None:
    assert len(EQUIVALENCE_EXPRESSIONS) >= 30
    parsed = [parse_expression(text) for text in EQUIVALENCE_EXPRESSIONS]
    result = frame.select([to_polars_filter(expr, resolver).alias(f"e{i}") for i, expr in enumerate(parsed)])
    scopes = [resolver.scope_for_row(row) for row in frame.iter_rows(named=True)]
    for i, expr in enumerate(parsed):
        column = result[f"e{i}"]
        assert column.dtype == pl.Boolean
        assert column.null_count() == 0, expr.text
        expected = [expr.evaluate_bool(scope) for scope in scopes]
        assert column.to_list() == expected, expr.text
        # both outcomes occur for most expressions, so the comparison is not vacuous
    assert sum(1 for name in result.columns if result[name].n_unique() == 2) >= 25


@pytest.mark.parametrize(
    "text",
    [
        "age + score * 2",
        "score / zero",
        "age % zero",
        "-score",
        "round(score, 1)",
        "round(score)",
        "abs(score)",
        "length(city)",
        "count_selected(brands)",
        "coalesce(age, gender, -1)",
        "min(age, score)",
        "max(age, score, 40)",
        "if(flag, age, score)",
        "flag + 1",
        "age / 7",
    ],
)
def test_polars_values_match_python(frame: pl.DataFrame, resolver: WideFrameResolver, text: str) -> None:
    expr = parse_expression(text)
    got = frame.select(expr.to_polars(resolver).alias("v"))["v"].to_list()
    expected = [expr.evaluate(resolver.scope_for_row(row)) for row in frame.iter_rows(named=True)]
    for actual, wanted in zip(got, expected, strict=True):
        if wanted is None:
            assert actual is None, text
        else:
            assert actual is not None and math.isclose(actual, wanted, rel_tol=1e-12, abs_tol=1e-12), text


def test_polars_without_schema_for_compatible_types(frame: pl.DataFrame) -> None:
    resolver = WideFrameResolver(multi_codes=MULTI, special_codes=SPECIALS)
    typed = WideFrameResolver(multi_codes=MULTI, special_codes=SPECIALS, schema=frame.schema)
    for text in [
        "age >= 18 and city = 'Paris'",
        "score / zero > 1",
        "round(score) = 2",
        "selected(gender, 2)",
    ]:
        expr = parse_expression(text)
        untyped = frame.select(to_polars_filter(expr, resolver))
        typed_result = frame.select(to_polars_filter(expr, typed))
        assert untyped.to_series().to_list() == typed_result.to_series().to_list()


def test_polars_self_column() -> None:
    frame = pl.DataFrame({"v": [5, 150, None, -1]})
    expr = parse_expression(". >= 0 and . <= 120")
    out = frame.select(expr.to_polars_bool(WideFrameResolver(), self_column=pl.col("v")))
    assert out.to_series().to_list() == [True, False, False, False]


def test_to_polars_filter_accepts_text() -> None:
    frame = pl.DataFrame({"age": [17, 18, None]})
    filtered = frame.filter(to_polars_filter("age >= 18", WideFrameResolver(schema=frame.schema)))
    assert filtered["age"].to_list() == [18]


def test_wide_resolver_scope_for_row() -> None:
    resolver = WideFrameResolver(multi_codes=MULTI, special_codes=SPECIALS)
    row = {"age": 99, "gender": 2, "brands_1": 1, "brands_2": 0, "brands_3": 1, "brands_4": 0, "brands_98": 0}
    scope = resolver.scope_for_row(row)
    assert scope.value("age") is None
    assert scope.special("age") == "refused"
    assert scope.value("gender") == 2
    assert scope.value("brands") == [1, 3]
    unanswered = resolver.scope_for_row({f"brands_{c}": None for c in MULTI["brands"]})
    assert unanswered.value("brands") is None
    dont_know = resolver.scope_for_row({**row, "brands_98": 1})
    assert dont_know.value("brands") is None
    assert dont_know.special("brands") == "dont_know"


def test_large_frame_is_vectorised() -> None:
    rows = 900_000  # a multiple of 90, so every age/gender pattern repeats exactly
    index = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame({"age": index % 90, "gender": index % 3})
    expr = parse_expression("age >= 18 and gender in (1, 2) and not (age % 10 = 0)")
    count = frame.filter(to_polars_filter(expr, WideFrameResolver(schema=frame.schema))).height
    per_cycle = sum(1 for age in range(90) if age >= 18 and age % 3 in (1, 2) and age % 10 != 0)
    assert count == rows // 90 * per_cycle


def test_selected_with_a_computed_code_works_in_interviews_but_not_in_bulk_filters() -> None:
    expr = parse_expression("selected(known, .)")
    assert expr.evaluate_bool(DictScope({"known": [1, 2]}), self_value=2)
    assert not expr.evaluate_bool(DictScope({"known": [1, 2]}), self_value=3)
    with pytest.raises(ExpressionError, match="not in bulk filters"):
        expr.to_polars(WideFrameResolver(multi_codes={"known": [1, 2]}))


def test_overflow_in_a_calculation_is_missing_not_a_crash() -> None:
    assert parse_expression("n * 10 / 2").evaluate(DictScope({"n": 10**400})) is None
    with pytest.raises(ExpressionError, match="from 0 to 15"):
        parse_expression("round(n / 3, 400)")
