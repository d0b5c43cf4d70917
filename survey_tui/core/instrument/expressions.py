"""The survey expression language: one small, safe language for skip logic, validation and filters.

Questionnaire instruments use expressions for ``relevant`` (skip logic), ``constraint`` (validation),
``calculate`` (derived values), screening criteria and analysis filters.  An expression is parsed ONCE at
load time into a small immutable AST and can then be

* evaluated in Python against one interview's answers (:meth:`Expression.evaluate`), used while
  interviewing, and
* compiled into a polars expression (:meth:`Expression.to_polars`) that evaluates over millions of rows
  at once, used by analysis and bulk screening.

Both evaluators implement the same semantics; the test-suite checks them against each other.

Syntax
------
* literals: ``12``, ``3.5``, ``'text'`` or ``"text"`` (backslash escapes the next character),
  ``true``, ``false``, ``null``;
* names: ``age`` or XLSForm style ``${age}`` (case-sensitive); ``.`` is the value being validated
  ("self", used in constraints);
* comparison: ``=`` / ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (not chainable), membership
  ``x in (1, 2, 3)`` and ``x not in (...)``;
* boolean: ``and``, ``or``, ``not`` (keywords are case-insensitive), parentheses;
* arithmetic: ``+ - * / %`` and unary minus.
  Precedence, loosest first: ``or`` < ``and`` < ``not`` < comparison < ``+ -`` < ``* / %`` < unary minus;
* functions (names case-insensitive): ``selected(q, code)``, ``count_selected(q)``, ``answered(q)``,
  ``dont_know(q)``, ``refused(q)``, ``if(cond, a, b)``, ``min(a, ...)``, ``max(a, ...)``,
  ``round(x[, digits])``, ``abs(x)``, ``length(s)``, ``coalesce(a, ...)``;
* loops (see the instrument's ``Loop``): ``item()`` is the current iteration's code, ``iteration()`` its
  1-based number, ``indexed(q, n)`` the answer to loop question ``q`` in iteration ``n`` (the variable
  ``q_n``).  The loader binds them for every iteration (:meth:`Expression.bind`), so an interview never
  evaluates them unbound; over a stacked frame (one row per iteration) the resolver supplies them.

Missing values
--------------
* An unanswered question, or one answered with a special code (don't know / refused), is ``None``.
* Arithmetic with ``None`` is ``None``; so is arithmetic on non-numbers (strings, multi-choice lists).
  Booleans count as 0/1 in arithmetic.  Division or modulo by zero is ``None``.  ``%`` is floor modulo
  (the sign follows the divisor, as in Python).
* ``=``: ``None = None`` is true, ``None = 3`` is false; ``!=`` is its negation.  Values of different
  kinds (number vs string vs multi-choice list) are never equal: ``1 = '1'`` is false.  ``1 = 1.0`` and
  ``true = 1`` are true.
* ``< <= > >=`` are false when either side is ``None`` or the kinds differ.
* ``x in (...)`` is false when ``x`` is ``None``; ``x not in (...)`` is then true.
* ``and`` / ``or`` / ``not`` and ``if()`` use truthiness: ``None`` is false, numbers are true when
  non-zero, strings and lists when non-empty.  They always produce a strict boolean.
* ``selected(q, c)``: false when ``q`` is missing; for a multi-choice ``q`` whether ``c`` is among the
  choices, otherwise ``q = c``.  ``count_selected(q)`` is 0 when ``q`` is missing, 1 for an answered
  single-choice question.  ``answered(q)`` is true when ``q`` has a substantive value (an empty
  multi-choice selection counts as answered).  ``dont_know(q)`` / ``refused(q)`` test the special code.
* ``min`` / ``max`` ignore ``None`` (``None`` only when every argument is); mixing numbers and strings
  gives ``None``.  ``coalesce`` returns the first non-``None`` argument.
* ``item()`` / ``iteration()`` outside a loop are ``None``; ``indexed(q, n)`` is ``None`` when ``n`` is not a
  whole number.  In polars, ``indexed()`` needs ``n`` to be a literal (after binding it usually is).
* ``round`` rounds half away from zero (``round(2.5) = 3``); ``digits`` must be a non-negative integer
  literal.  ``abs``/``round`` of a non-number and ``length`` of a non-string are ``None``.
* :meth:`Expression.evaluate_bool` returns a strict Python ``bool`` (``None`` becomes ``False``).

Polars compilation types values statically when the resolver can tell the column dtypes (see
:class:`WideFrameResolver`, ``schema``).  With known dtypes, kind mismatches are folded to the results
above; with unknown dtypes polars itself may refuse to compare, e.g., a string column with a number.
Because a polars column has a single type, ``if()`` and ``coalesce()`` whose branches have statically
different kinds raise :class:`ExpressionError` from :meth:`Expression.to_polars`.

Why lark
--------
Hand-written recursive-descent parsers for infix languages are easy to get subtly wrong (precedence,
associativity, error recovery).  A declarative LALR grammar states the precedence table in a dozen
readable lines, parses in linear time, and reports the exact offending token with its offset, which
we turn into friendly :class:`ExpressionError` messages.  ``eval`` is never used: the AST only contains
the constructs above, so an expression cannot reach Python objects or the file system.
"""

from __future__ import annotations

import difflib
import enum
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, TypeAlias

from survey_tui.core.lazy import lazy
from survey_tui.i18n import _

if TYPE_CHECKING:
    import polars as pl
    from lark import Lark, Token, Tree
    from lark.exceptions import UnexpectedInput
else:
    pl = lazy("polars")

__all__ = [
    "FUNCTIONS",
    "Binary",
    "Call",
    "ColumnResolver",
    "Compare",
    "DictScope",
    "Expression",
    "ExpressionError",
    "Literal",
    "Logical",
    "Membership",
    "Name",
    "NameRef",
    "Node",
    "Not",
    "Scope",
    "SelfRef",
    "Unary",
    "WideFrameResolver",
    "parse_expression",
    "to_polars_filter",
    "truthy",
]


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class ExpressionError(ValueError):
    """An expression that cannot be parsed or compiled, pointing at where the problem starts."""

    def __init__(self, message: str, position: int = 1, text: str = "") -> None:
        super().__init__(message, position, text)
        self.message = message
        self.position = position  # 1-based character column in ``text``
        self.text = text

    def __str__(self) -> str:
        return _("{error} at position {position}").format(error=self.message, position=self.position)

    @property
    def caret(self) -> str:
        """Two lines, the expression and a ``^`` under the problem, for showing to questionnaire authors."""
        return f"{self.text}\n{' ' * (self.position - 1)}^"


# --------------------------------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: int | float | str | bool | None
    position: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class SelfRef:
    position: int


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus (``op == '-'``)."""

    op: str
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic: ``op`` is one of ``+ - * / %``."""

    op: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    """Comparison: ``op`` is one of ``= != < <= > >=`` (``==`` is normalised to ``=``)."""

    op: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Logical:
    """``op`` is ``'and'`` or ``'or'``."""

    op: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Membership:
    operand: Node
    items: tuple[Node, ...]
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    function: str  # lower-cased, always a key of FUNCTIONS
    args: tuple[Node, ...]
    position: int


Node: TypeAlias = Literal | Name | SelfRef | Unary | Not | Binary | Compare | Logical | Membership | Call


@dataclass(frozen=True)
class _FunctionSpec:
    min_args: int
    max_args: int | None  # None: unbounded
    name_first: bool  # first argument must be a question name
    signature: str


FUNCTIONS: Mapping[str, _FunctionSpec] = {
    "selected": _FunctionSpec(2, 2, True, "selected(question, code)"),
    "count_selected": _FunctionSpec(1, 1, True, "count_selected(question)"),
    "answered": _FunctionSpec(1, 1, True, "answered(question)"),
    "dont_know": _FunctionSpec(1, 1, True, "dont_know(question)"),
    "refused": _FunctionSpec(1, 1, True, "refused(question)"),
    "if": _FunctionSpec(3, 3, False, "if(condition, then, else)"),
    "min": _FunctionSpec(1, None, False, "min(a, b, ...)"),
    "max": _FunctionSpec(1, None, False, "max(a, b, ...)"),
    "round": _FunctionSpec(1, 2, False, "round(x[, digits])"),
    "abs": _FunctionSpec(1, 1, False, "abs(x)"),
    "length": _FunctionSpec(1, 1, False, "length(text)"),
    "coalesce": _FunctionSpec(1, None, False, "coalesce(a, b, ...)"),
    "item": _FunctionSpec(0, 0, False, "item()"),
    "iteration": _FunctionSpec(0, 0, False, "iteration()"),
    "indexed": _FunctionSpec(2, 2, True, "indexed(question, iteration)"),
}
"""Known functions; exposed so editors can offer completion and signatures."""


# --------------------------------------------------------------------------------------------------
# Grammar and parsing
# --------------------------------------------------------------------------------------------------

# Keywords are regexes with a word boundary and a higher priority than NAME, so that ``and`` is a
# keyword while ``android`` is a name.  The basic (non-contextual) lexer keeps that decision independent
# of the parser state, so a keyword can never silently become a question name.
_GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | or_expr OR and_expr                     -> logical
?and_expr: not_expr
        | and_expr AND not_expr                   -> logical
?not_expr: comparison
        | NOT not_expr                            -> negation
?comparison: sum
        | sum COMP_OP sum                         -> compare
        | sum IN "(" items ")"                    -> member
        | sum NOT IN "(" items ")"                -> member
?sum: product
        | sum (PLUS | MINUS) product              -> arith
?product: unary
        | product (STAR | SLASH | PERCENT) unary  -> arith
?unary: atom
        | MINUS unary                             -> neg
?atom: NUMBER                                     -> number
        | STRING                                  -> string
        | TRUE                                    -> true
        | FALSE                                   -> false
        | NULL                                    -> null
        | NAME                                    -> name
        | XLS_NAME                                -> name
        | DOT                                     -> self_ref
        | NAME "(" [items] ")"                    -> call
        | "(" or_expr ")"

items: or_expr ("," or_expr)*

OR.2: /or\b/i
AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NULL.2: /null\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
XLS_NAME: /\$\{[A-Za-z_][A-Za-z0-9_]*\}/
NUMBER: /\d+(\.\d+)?|\.\d+/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
COMP_OP: /==|!=|<=|>=|=|<|>/
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
DOT: "."

%import common.WS
%ignore WS
"""


@functools.cache
def _parser() -> Lark:
    """Build the LALR parser once, on first use.

    Building the tables takes 0.05-0.08 s, a third of `survey-tui check`; lark's own cache (a file in the
    temp folder keyed by the grammar, options and lark version) loads them in a few milliseconds.
    """
    from lark import Lark  # only for what the fast path hands over (errors, unusual depth): `check` seldom needs it

    return Lark(_GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=True, cache=True)


@dataclass(frozen=True)
class NameRef:
    """One reference to a name, so that loaders can report unknown questions at the right column."""

    name: str
    position: int  # 1-based column in the expression


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the source text and its AST.  Immutable, hashable and cheap to share."""

    text: str
    root: Node

    def __str__(self) -> str:
        return self.text

    @cached_property
    def _scan(self) -> tuple[tuple[NameRef, ...], bool, tuple[Call, ...]]:
        """One walk for what the loader asks of every expression: its names, whether it uses '.', its
        indexed() calls (three walks were a tenth of `check` on instruments with long logic)."""
        refs: list[NameRef] = []
        uses_self = False
        indexed: list[Call] = []
        for node in _walk(self.root):
            kind = type(node)
            if kind is Name:
                refs.append(NameRef(node.name, node.position))  # type: ignore[union-attr]
            elif kind is SelfRef:
                uses_self = True
            elif kind is Call and node.function == "indexed":  # type: ignore[union-attr]
                indexed.append(node)  # type: ignore[arg-type]
        return tuple(sorted(refs, key=lambda ref: ref.position)), uses_self, tuple(indexed)

    @cached_property
    def references(self) -> tuple[NameRef, ...]:
        """Every use of a name, in textual order (``.`` excluded)."""
        return self._scan[0]

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(ref.name for ref in self.references)

    @cached_property
    def uses_self(self) -> bool:
        return self._scan[1]

    def bind(
        self,
        rename: Mapping[str, str],
        item: int | None = None,
        iteration: int | None = None,
        indexed: Callable[[str, int], str | None] | None = None,
    ) -> Expression:
        """The expression for one loop iteration: names renamed (``fam`` -> ``fam_3``), ``item()`` and
        ``iteration()`` replaced by their values, and ``indexed(q, n)`` with a constant ``n`` turned into the
        name ``indexed(q, n)`` returns (default ``q_n``; None makes it missing, e.g. an iteration not asked
        yet).  The text stays the one written, so messages point into what the author typed.
        """
        binder = _Binder(rename, item, iteration, indexed or (lambda name, n: f"{name}_{n}"))
        root = binder.bind(self.root)
        return self if root == self.root else Expression(self.text, root)

    @cached_property
    def unbound_indexed(self) -> tuple[Call, ...]:
        """``indexed()`` calls whose iteration is not a constant (the loader reports them)."""
        return self._scan[2]

    def evaluate(self, scope: Scope, self_value: object = None) -> object:
        """Evaluate against one interview; ``self_value`` is what ``.`` stands for.

        A result too large to compute (``10 ** 400``-sized arithmetic) is missing, like division by zero:
        an interview must never stop on a calculation.
        """
        try:
            return _Evaluator(scope, self_value).eval(self.root)
        except OverflowError:
            return None

    def evaluate_bool(self, scope: Scope, self_value: object = None) -> bool:
        """Evaluate as a condition: a strict ``bool``, ``None`` counting as false."""
        return truthy(self.evaluate(scope, self_value))

    def to_polars(self, resolver: ColumnResolver, self_column: pl.Expr | None = None) -> pl.Expr:
        """Compile to a polars expression computing the same value as :meth:`evaluate`, row by row.

        Raises :class:`ExpressionError` if ``.`` is used without ``self_column`` or if ``if()`` /
        ``coalesce()`` would mix kinds a polars column cannot hold.
        """
        return _PolarsCompiler(resolver, self_column, self.text).compile(self.root)[0]

    def to_polars_bool(self, resolver: ColumnResolver, self_column: pl.Expr | None = None) -> pl.Expr:
        """Compile as a condition: a boolean expression without nulls, matching :meth:`evaluate_bool`."""
        compiler = _PolarsCompiler(resolver, self_column, self.text)
        return _pl_truthy(*compiler.compile(self.root))


def _walk(node: Node) -> Iterator[Node]:
    """Pre-order traversal, children left to right (textual order).

    With an explicit stack: a recursive generator re-yields every node through each level above it, which
    is quadratic in the nesting depth (forty parentheses deep made it the slowest part of `check`)."""
    stack: list[Node] = [node]
    pop, push = stack.pop, stack.extend
    while stack:
        current = pop()
        yield current
        kind = type(current)
        if kind is Binary or kind is Compare or kind is Logical:
            push((current.right, current.left))  # type: ignore[union-attr]
        elif kind is Unary or kind is Not:
            stack.append(current.operand)  # type: ignore[union-attr]
        elif kind is Call:
            push(reversed(current.args))  # type: ignore[union-attr]
        elif kind is Membership:
            push(reversed(current.items))  # type: ignore[union-attr]
            stack.append(current.operand)  # type: ignore[union-attr]


_LOOP_FUNCTIONS = frozenset({"item", "iteration", "indexed"})


def _is_constant(node: Node) -> bool:
    """No names, no '.', no loop functions: the value is the same in every interview."""
    for sub in _walk(node):
        if isinstance(sub, Name | SelfRef):
            return False
        if isinstance(sub, Call) and (sub.function in _LOOP_FUNCTIONS or FUNCTIONS[sub.function].name_first):
            return False
    return True


class _Binder:
    """Rewrites an AST for one loop iteration (see :meth:`Expression.bind`)."""

    def __init__(
        self,
        rename: Mapping[str, str],
        item: int | None,
        iteration: int | None,
        indexed: Callable[[str, int], str | None],
    ) -> None:
        self.rename, self.item, self.iteration, self.indexed = rename, item, iteration, indexed

    def bind(self, node: Node) -> Node:
        match node:
            case Name(name=name, position=position):
                return Name(self.rename.get(name, name), position) if name in self.rename else node
            case Unary(op=op, operand=operand, position=position):
                return Unary(op, self.bind(operand), position)
            case Not(operand=operand, position=position):
                return Not(self.bind(operand), position)
            case Binary(op=op, left=left, right=right, position=position):
                return Binary(op, self.bind(left), self.bind(right), position)
            case Compare(op=op, left=left, right=right, position=position):
                return Compare(op, self.bind(left), self.bind(right), position)
            case Logical(op=op, left=left, right=right, position=position):
                return Logical(op, self.bind(left), self.bind(right), position)
            case Membership(operand=operand, items=items, negated=negated, position=position):
                return Membership(self.bind(operand), tuple(self.bind(i) for i in items), negated, position)
            case Call(function="item", position=position) if self.item is not None:
                return Literal(self.item, position)
            case Call(function="iteration", position=position) if self.iteration is not None:
                return Literal(self.iteration, position)
            case Call(function="indexed", args=(Name() as target, index), position=position):
                index = self.bind(index)
                if _is_constant(index):
                    number = Expression("", index).evaluate(DictScope({}))
                    if not (_is_number(number) and float(number).is_integer()):  # type: ignore[arg-type]
                        return Literal(None, position)
                    name = self.indexed(target.name, int(number))  # type: ignore[arg-type]
                    return Literal(None, position) if name is None else Name(name, target.position)
                return Call("indexed", (target, index), position)
            case Call(function=function, args=args, position=position):
                if FUNCTIONS[function].name_first:
                    return Call(function, (self.bind(args[0]), *(self.bind(a) for a in args[1:])), position)
                return Call(function, tuple(self.bind(a) for a in args), position)
        return node


@functools.lru_cache(maxsize=4096)
def parse_expression(text: str, *, word_errors: bool = True) -> Expression:
    """Parse ``text``; raises :class:`ExpressionError`.  Results are cached: instruments repeat them.

    Well-formed expressions are read by :func:`_fast_parse` (the same grammar and tree, ten times faster than
    lark's pure-Python LALR parser, which was most of `check` on instruments with long logic); anything it does
    not accept goes to lark, so every error message comes from the grammar's own parser, as before.

    Wording an error that way costs about a millisecond (lark's parse and the message built from its state):
    with ``word_errors=False`` a text the fast reader refuses outright raises :class:`UnwordedError` instead,
    located where the reader stopped, for callers that only count problems past the first few (the loader
    words the first :data:`MAX_WORDED_ERRORS` and counts the rest, as compilers cap their error output).
    """
    if not text.strip():
        raise ExpressionError(_("empty expression"), 1, text)
    read = _fast_read(text)
    if type(read) is tuple:
        expression = Expression(text, read[0])
        expression.__dict__["_scan"] = read[1]  # what the walk in _scan would find, gathered while reading
        return expression
    if not word_errors and read is not None:
        raise UnwordedError(_("the expression does not parse"), read, text)
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _translate_error(exc, text) from None
    except LarkError:  # pragma: no cover - defensive: lark raises UnexpectedInput subclasses
        raise ExpressionError(_("invalid expression"), 1, text) from None
    try:
        return Expression(text, _Builder(text).build(tree))
    except RecursionError:  # thousands of chained operators; the evaluators recurse just as deep
        raise ExpressionError(_("expression is too deeply nested"), 1, text) from None


class UnwordedError(ExpressionError):
    """A syntax error the fast reader found, located where it stopped but not worded by lark (see
    ``parse_expression(word_errors=False)``): lark may point a little further on."""


#: syntax errors the loader words in full (lark's message) before it only counts the rest, like clang's
#: ``-ferror-limit`` (20 too): an instrument with thousands of broken expressions has one mistake repeated
MAX_WORDED_ERRORS = 20


# --- the fast path ------------------------------------------------------------------------------

#: lark's terminals in the order its basic lexer tries them (keywords first: priority 2, then by width), as
#: one alternation: the first that matches at a position wins, as in lark. NUMBER's group is non-capturing so
#: ``lastgroup`` names the terminal. A test compares this with the lark parser's own terminal list.
_TERMINALS: tuple[tuple[str, str], ...] = (
    ("FALSE", r"(?i:false\b)"),
    ("NULL", r"(?i:null\b)"),
    ("TRUE", r"(?i:true\b)"),
    ("AND", r"(?i:and\b)"),
    ("NOT", r"(?i:not\b)"),
    ("IN", r"(?i:in\b)"),
    ("OR", r"(?i:or\b)"),
    ("STRING", r"""(?s:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""),
    ("XLS_NAME", r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"),
    ("NAME", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("NUMBER", r"\d+(?:\.\d+)?|\.\d+"),
    ("WS", "(?:[ \t\x0c\r\n])+"),  # the characters themselves, as lark writes them
    ("COMP_OP", r"==|!=|<=|>=|=|<|>"),
    ("COMMA", r","),
    ("DOT", r"\."),
    ("LPAR", r"\("),
    ("MINUS", r"\-"),
    ("PERCENT", r"%"),
    ("PLUS", r"\+"),
    ("RPAR", r"\)"),
    ("SLASH", r"/"),
    ("STAR", r"\*"),
)
_SPACE = dict(_TERMINALS)["WS"][3:-2]  # the ignored characters, as a class: "[ \t\x0c\r\n]"
#: terminals of one character no other terminal can start with: tried first, behind one look at that character
_SINGLE = ("LPAR", "RPAR", "COMMA", "PLUS", "MINUS", "STAR", "SLASH", "PERCENT")
_KEYWORDS = ("FALSE", "NULL", "TRUE", "AND", "NOT", "IN", "OR")


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(f"(?P<{name}>{dict(_TERMINALS)[name]})" for name in names)


#: one match per token, the ignored space before it included; BAD is any other character (lark stops there).
#: The order is lark's except for the single characters, which no earlier terminal can match; a lookahead
#: before them and before the keywords skips each group in one step (deep parentheses lexed twice as fast).
_TOKEN = re.compile(
    f"{_SPACE}*(?:(?=[(),+\\-*/%])(?:{_alternatives(_SINGLE)})|(?=[AaFfIiNnOoTt])(?:{_alternatives(_KEYWORDS)})|"
    + _alternatives(name for name, _ in _TERMINALS if name not in (*_SINGLE, *_KEYWORDS, "WS"))
    + f"|(?P<BAD>[^{_SPACE[1:-1]}]))"
)
_UNESCAPE = re.compile(r"\\(.)", re.S)
#: deeper parentheses are refused (a located error, not lark's slow path); no questionnaire comes near it
MAX_PARENTHESES = 100
#: a tree this many tokens long may be deep enough for the lark path's recursion limit: checked like it
_PROBE_TOKENS = 500


class _NotFast(Exception):
    """The fast path does not take this text (a syntax or argument error, or great depth): lark parses it."""


_Scan = tuple[tuple["NameRef", ...], bool, tuple[Call, ...]]


def _fast_parse(text: str) -> Node | None:
    """The tree lark and :class:`_Builder` build for `text`, or None to let them parse it (and word any error).

    A recursive-descent reading of ``_GRAMMAR``: one level per rule, left-associative loops for ``or``, ``and``,
    ``+ -`` and ``* / %``, comparisons that do not chain, and the same positions (a rule's node takes its
    first operand's). Any token the grammar does not allow at that point, any error the builder would raise,
    and any recursion limit reached, hands the text back to lark, so what the fast path accepts is exactly
    what lark accepts, and it builds the same tree (tests compare the two on generated expressions).
    """
    read = _fast_read(text)
    return read[0] if type(read) is tuple else None


def _fast_read(text: str) -> tuple[Node, _Scan] | int | None:
    """:func:`_fast_parse`'s tree with :attr:`Expression._scan` gathered on the way, or the 1-based position
    where a syntax error stopped the reader, or None when only lark can tell (a recursion limit reached)."""
    matches = list(_TOKEN.finditer(text))
    kinds: list[str | None] = [match.lastgroup for match in matches]
    if "BAD" in kinds:
        return matches[kinds.index("BAD")].start("BAD") + 1  # a character no terminal matches: lark names it
    if not matches:
        return 1
    if kinds.count("LPAR") > MAX_PARENTHESES:
        depth = 0
        for match, kind in zip(matches, kinds, strict=True):
            depth += kind == "LPAR"
            depth -= kind == "RPAR"
            if depth > MAX_PARENTHESES:
                raise ExpressionError(
                    _("expression nests parentheses deeper than {levels} levels").format(levels=MAX_PARENTHESES),
                    match.start("LPAR") + 1,
                    text,
                )
    kinds.append(None)  # end of expression
    reader = _FastParser(text, kinds, matches)
    try:
        root = reader.parse()
    except ExpressionError as exc:  # the builder's (a function's name or arguments)
        return exc.position
    except _NotFast:
        at = min(reader.at, len(matches))
        return matches[at].start(matches[at].lastgroup) + 1 if at < len(matches) else len(text.rstrip()) + 1  # type: ignore[arg-type]
    except RecursionError:
        return None
    if len(kinds) > _PROBE_TOKENS:
        try:
            _probe(root)  # recurse as _Builder.build does: too deep there is too deep here
        except RecursionError:
            raise ExpressionError(_("expression is too deeply nested"), 1, text) from None
    indexed = tuple(sorted(reader.indexed, key=lambda call: call.position))  # position order is pre-order
    return root, (tuple(reader.refs), reader.uses_self, indexed)


def _probe(node: Node) -> None:
    """Walk `node` with the recursion pattern of :meth:`_Builder.build` (one frame per level, three per call)."""
    kind = type(node)
    if kind is Binary or kind is Compare or kind is Logical:
        _probe(node.left)  # type: ignore[union-attr]
        _probe(node.right)  # type: ignore[union-attr]
    elif kind is Unary or kind is Not:
        _probe(node.operand)  # type: ignore[union-attr]
    elif kind is Membership:
        _probe(node.operand)  # type: ignore[union-attr]
        tuple(_probe(item) for item in node.items)  # type: ignore[union-attr]
    elif kind is Call:
        _probe_call(node)  # type: ignore[arg-type]


def _probe_call(node: Call) -> None:
    tuple(_probe(arg) for arg in node.args)


_MULTIPLY = {"STAR": "*", "SLASH": "/", "PERCENT": "%"}
_ADD = {"PLUS": "+", "MINUS": "-"}


class _FastParser:
    """Precedence climbing over the token kinds: ``or`` over ``and`` in one loop, ``+ -`` over ``* / %`` in
    another, so an operand costs four calls, not one per grammar rule."""

    def __init__(self, text: str, kinds: list[str | None], matches: list[re.Match[str]]) -> None:
        self.text, self.kinds, self.matches = text, kinds, matches
        self.at = 0
        self.refs: list[NameRef] = []  # the names read, in textual order (as the tree's walk finds them)
        self.uses_self = False
        self.indexed: list[Call] = []

    def start(self, at: int) -> int:
        match = self.matches[at]
        return match.start(match.lastgroup) + 1  # type: ignore[arg-type]

    def value(self, at: int) -> str:
        match = self.matches[at]
        return match.group(match.lastgroup)  # type: ignore[arg-type]

    def expect(self, kind: str) -> None:
        if self.kinds[self.at] != kind:
            raise _NotFast
        self.at += 1

    def parse(self) -> Node:
        node = self.or_expr()
        if self.kinds[self.at] is not None:
            raise _NotFast
        return node

    def or_expr(self, left: Node | None = None) -> Node:
        """An or/and chain; `left`, when given, is its first operand, already read."""
        kinds = self.kinds
        if left is None:
            left = self.not_expr()
        while kinds[self.at] == "AND":
            self.at += 1
            left = Logical("and", left, self.not_expr(), left.position)
        while kinds[self.at] == "OR":
            self.at += 1
            right = self.not_expr()
            while kinds[self.at] == "AND":
                self.at += 1
                right = Logical("and", right, self.not_expr(), right.position)
            left = Logical("or", left, right, left.position)
        return left

    def not_expr(self, left: Node | None = None) -> Node:
        """A comparison, membership or negation; `left`, when given, is the arithmetic before the operator."""
        kinds = self.kinds
        if left is None:
            if kinds[self.at] == "NOT":
                position = self.start(self.at)
                self.at += 1
                return Not(self.not_expr(), position)
            left = self.arith()
        kind = kinds[self.at]
        if kind == "COMP_OP":
            op = self.value(self.at)
            self.at += 1
            return Compare("=" if op == "==" else op, left, self.arith(), left.position)
        if kind == "IN" or kind == "NOT":
            negated = kind == "NOT"
            self.at += 1
            if negated:
                self.expect("IN")
            self.expect("LPAR")
            items = self.items()
            self.expect("RPAR")
            return Membership(left, items, negated, left.position)
        return left

    def items(self) -> tuple[Node, ...]:
        found = [self.or_expr()]
        kinds = self.kinds
        while kinds[self.at] == "COMMA":
            self.at += 1
            found.append(self.or_expr())
        return tuple(found)

    def arith(self, left: Node | None = None) -> Node:
        """Sums of products; `left`, when given, is the first operand, already read."""
        kinds = self.kinds
        if left is None:
            left = self.unary()
        while kinds[self.at] in _MULTIPLY:
            op = _MULTIPLY[kinds[self.at]]  # type: ignore[index]
            self.at += 1
            left = Binary(op, left, self.unary(), left.position)
        while kinds[self.at] in _ADD:
            op = _ADD[kinds[self.at]]  # type: ignore[index]
            self.at += 1
            right = self.unary()
            while kinds[self.at] in _MULTIPLY:
                times = _MULTIPLY[kinds[self.at]]  # type: ignore[index]
                self.at += 1
                right = Binary(times, right, self.unary(), right.position)
            left = Binary(op, left, right, left.position)
        return left

    def unary(self) -> Node:
        """One operand (a name, call, literal, '-' operand or parenthesised group); the match's own group is
        read by `kind` inline (a method call per token was a tenth of reading deep expressions)."""
        at = self.at
        kind = self.kinds[at]
        self.at = at + 1
        if kind == "NAME":
            name = self.matches[at][kind]
            if self.kinds[at + 1] != "LPAR":
                position = self.matches[at].start(kind) + 1
                self.refs.append(NameRef(name, position))
                return Name(name, position)
            self.at += 1
            args = self.items() if self.kinds[self.at] != "RPAR" else ()
            self.expect("RPAR")
            call = _Builder(self.text).call(name, self.matches[at].start(kind) + 1, args)
            if call.function == "indexed":
                self.indexed.append(call)
            return call
        if kind == "MINUS":
            operand = self.unary()
            if isinstance(operand, Literal) and _is_number(operand.value):
                return Literal(-operand.value, self.matches[at].start(kind) + 1)  # type: ignore[operator]
            return Unary("-", operand, self.matches[at].start(kind) + 1)
        if kind == "NUMBER":
            value = self.matches[at][kind]
            return Literal(float(value) if "." in value else int(value), self.matches[at].start(kind) + 1)
        if kind == "LPAR":  # a run of '(' in a loop: the innermost is read, then each level goes on from ')'
            kinds, depth = self.kinds, 1
            while kinds[self.at] == "LPAR":
                self.at += 1
                depth += 1
            node = self.or_expr()
            self.expect("RPAR")
            for _ in range(depth - 1):  # the group just closed is the first operand of the one around it
                node = self.or_expr(self.not_expr(self.arith(node)))
                self.expect("RPAR")
            return node
        if kind == "XLS_NAME":
            name, position = self.matches[at][kind][2:-1], self.matches[at].start(kind) + 1
            self.refs.append(NameRef(name, position))
            return Name(name, position)
        if kind == "STRING":
            return Literal(_UNESCAPE.sub(r"\1", self.matches[at][kind][1:-1]), self.matches[at].start(kind) + 1)
        if kind == "TRUE" or kind == "FALSE":
            return Literal(kind == "TRUE", self.matches[at].start(kind) + 1)
        if kind == "NULL":
            return Literal(None, self.matches[at].start(kind) + 1)
        if kind == "DOT":
            self.uses_self = True
            return SelfRef(self.matches[at].start(kind) + 1)
        raise _NotFast


def to_polars_filter(expr: Expression | str, resolver: ColumnResolver) -> pl.Expr:
    """A strict boolean polars filter (nulls become false) for an expression or its source text."""
    if isinstance(expr, str):
        expr = parse_expression(expr)
    return expr.to_polars_bool(resolver)


class _Builder:
    """Turns lark's parse tree into the AST, checking function names, arity and argument forms."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, position, self.text)

    def build(self, item: Tree | Token) -> Node:
        from lark import Token

        if isinstance(item, Token):  # pragma: no cover - every terminal is wrapped in an aliased rule
            raise self.error("invalid expression", _pos(item))
        kids = item.children
        match item.data:
            case "number":
                token = kids[0]
                value: int | float = float(token) if "." in token else int(token)
                return Literal(value, _pos(token))
            case "string":
                token = kids[0]
                return Literal(re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.S), _pos(token))
            case "true" | "false":
                return Literal(item.data == "true", _pos(kids[0]))
            case "null":
                return Literal(None, _pos(kids[0]))
            case "name":
                token = kids[0]
                name = token[2:-1] if token.type == "XLS_NAME" else str(token)
                return Name(name, _pos(token))
            case "self_ref":
                return SelfRef(_pos(kids[0]))
            case "neg":
                operand = self.build(kids[1])
                if isinstance(operand, Literal) and _is_number(operand.value):
                    return Literal(-operand.value, _pos(kids[0]))  # type: ignore[operator]
                return Unary("-", operand, _pos(kids[0]))
            case "negation":
                return Not(self.build(kids[1]), _pos(kids[0]))
            case "arith":
                left = self.build(kids[0])
                return Binary(str(kids[1]), left, self.build(kids[2]), left.position)
            case "compare":
                left = self.build(kids[0])
                op = "=" if kids[1] == "==" else str(kids[1])
                return Compare(op, left, self.build(kids[2]), left.position)
            case "logical":
                left = self.build(kids[0])
                return Logical(kids[1].type.lower(), left, self.build(kids[2]), left.position)
            case "member":
                operand = self.build(kids[0])
                negated = any(getattr(kid, "type", None) == "NOT" for kid in kids)  # the NOT token, not a Tree
                items = tuple(self.build(kid) for kid in kids[-1].children)
                return Membership(operand, items, negated, operand.position)
            case "call":
                return self.build_call(kids[0], kids[1])
        raise self.error("invalid expression", 1)  # pragma: no cover - grammar and builder agree

    def build_call(self, name_token: Token, items: Tree | None) -> Call:
        position = _pos(name_token)
        function = str(name_token).lower()
        if function not in FUNCTIONS:
            raise self.unknown_function(str(name_token), position)
        args = tuple(self.build(kid) for kid in items.children) if items is not None else ()
        return self.call(str(name_token), position, args)

    def unknown_function(self, name: str, position: int) -> ExpressionError:
        function = name.lower()
        close = difflib.get_close_matches(function, list(FUNCTIONS), n=1)
        message = (
            _("unknown function '{name}', did you mean '{close}'?").format(name=name, close=close[0])
            if close
            else _("unknown function '{name}'").format(name=name)
        )
        return self.error(message, position)

    def call(self, name: str, position: int, args: tuple[Node, ...]) -> Call:
        """The call of function `name` (as written) with its built arguments, checked (arity, argument forms)."""
        function = name.lower()
        spec = FUNCTIONS.get(function)
        if spec is None:
            raise self.unknown_function(name, position)
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            message = _("{function}() takes {arguments}, got {count}").format(
                function=function, arguments=_arity_text(spec), count=len(args)
            )
            raise self.error(message, position)
        if spec.name_first and not isinstance(args[0], Name):
            message = _("first argument of {function}() must be a question name").format(function=function)
            raise self.error(message, args[0].position)
        if function == "selected" and isinstance(args[1], Literal):
            args = (args[0], self.choice_code(args[1]))
        if function == "round" and len(args) == 2:
            digits = args[1]
            if not (isinstance(digits, Literal) and type(digits.value) is int and 0 <= digits.value <= 15):
                raise self.error(_("digits of round() must be a whole number from 0 to 15"), digits.position)
        return Call(function, args, position)

    def choice_code(self, arg: Node) -> Literal:
        """A literal code lets polars pick the 0/1 column; '3' means 3 (XLSForm). Computed codes are for interviews."""
        if isinstance(arg, Literal):
            if type(arg.value) is int:
                return arg
            if isinstance(arg.value, str) and re.fullmatch(r"-?\d+", arg.value.strip()):
                return Literal(int(arg.value), arg.position)
        raise self.error(_("second argument of selected() must be a whole-number choice code"), arg.position)


def _pos(token: Token) -> int:
    return (token.start_pos or 0) + 1


def _arity_text(spec: _FunctionSpec) -> str:
    def plural(n: int) -> str:
        return (_("{n} argument") if n == 1 else _("{n} arguments")).format(n=n)

    if spec.max_args is None:
        return _("at least {arguments}").format(arguments=plural(spec.min_args))
    if spec.min_args == spec.max_args:
        return plural(spec.min_args)
    return _("{low} to {arguments}").format(low=spec.min_args, arguments=plural(spec.max_args))


# --- friendly syntax errors ---------------------------------------------------------------------

# Terminals that can start an operand, and those that can only follow one (MINUS is both; it counts
# as an operand start because PLUS is always expected alongside binary minus).
_VALUE_START = frozenset(
    {"NUMBER", "STRING", "TRUE", "FALSE", "NULL", "NAME", "XLS_NAME", "DOT", "LPAR", "MINUS", "NOT"}
)
_INFIX = frozenset({"OR", "AND", "COMP_OP", "IN", "PLUS", "STAR", "SLASH", "PERCENT"})
_DISPLAY = {"LPAR": "'('", "RPAR": "')'", "COMMA": "','", "IN": "'in'", "$END": "end of expression"}


def _describe(token: Token) -> str:
    kind = token.type
    if kind == "$END":
        return _("end of expression")
    if kind in ("NAME", "XLS_NAME"):
        return _("name '{token}'").format(token=token)
    if kind == "NUMBER":
        return _("number {token}").format(token=token)
    if kind == "STRING":
        return _("string {token}").format(token=token)
    return f"'{token}'"


def _open_parens(text: str, end: int) -> list[int]:
    """0-based offsets of the '(' still unclosed before offset ``end``."""
    from lark.exceptions import LarkError

    stack: list[int] = []
    try:
        for token in _parser().lex(text):
            if token.start_pos is not None and token.start_pos >= end:
                break
            if token.type == "LPAR":
                stack.append(token.start_pos or 0)
            elif token.type == "RPAR" and stack:
                stack.pop()
    except LarkError:
        pass  # the text only lexes up to the error; what we saw so far is what matters
    return stack


def _translate_error(exc: UnexpectedInput, text: str) -> ExpressionError:
    """Turn lark's exceptions into one-line messages a questionnaire author can act on."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream
        char = text[offset] if offset < len(text) else ""
        if char in "'\"":
            message = _("unterminated string")
        elif char == "$":
            message = _("malformed ${name} reference")
        elif char == "!":
            message = _("unexpected character '!' (use 'not' or '!=')")
        elif char in "&|":
            message = _("unexpected character '{char}' (use 'and' / 'or')").format(char=char)
        else:
            message = _("unexpected character '{char}'").format(char=char)
        return ExpressionError(message, offset + 1, text)

    if not isinstance(exc, UnexpectedToken):  # pragma: no cover - UnexpectedEOF is not raised by LALR
        return ExpressionError(_("unexpected end of expression"), len(text.rstrip()) + 1, text)

    token = exc.token
    expected = set(exc.expected)
    wants_value = bool(expected & _VALUE_START) and not (expected & _INFIX)
    at_end = token.type == "$END"
    offset = len(text.rstrip()) if at_end else (token.start_pos or 0)
    open_parens = _open_parens(text, offset)

    only = expected - {"$END"}
    if len(only) == 1 and next(iter(only)) in _DISPLAY:  # e.g. "x in 1", "x not 3"
        wanted = _DISPLAY[next(iter(only))]
        message = _("expected {wanted}, found {found}").format(wanted=wanted, found=_describe(token))
    elif wants_value:
        found = _("expected a value, found {found}")
        message = _("expected a value") if at_end else found.format(found=_describe(token))
    elif at_end and open_parens:
        return ExpressionError(_("unclosed parenthesis"), open_parens[-1] + 1, text)
    elif at_end:
        message = _("unexpected end of expression")
    elif token.type == "RPAR" and not open_parens:
        message = _("unexpected ')'")
    elif token.type == "COMP_OP":
        message = _("unexpected '{token}' (comparisons cannot be chained; use 'and')").format(token=token)
    elif token.type in ("NAME", "XLS_NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "DOT", "LPAR"):
        message = _("unexpected {found}, expected an operator").format(found=_describe(token))
    else:
        message = _("unexpected {found}").format(found=_describe(token))
    return ExpressionError(message, offset + 1, text)


# --------------------------------------------------------------------------------------------------
# Python evaluation
# --------------------------------------------------------------------------------------------------


class Scope(Protocol):
    """The answers of one interview, as seen by expressions."""

    def value(self, name: str) -> object | None:
        """Substantive value: int/float/str/list[int] (multi choice) or None (missing or special)."""
        ...

    def special(self, name: str) -> str | None:
        """``'dont_know'`` / ``'refused'`` when answered with that special code, else None."""
        ...


@dataclass
class DictScope:
    """A :class:`Scope` over plain dicts (tests, screening one row).  A special hides any value."""

    values: Mapping[str, object]
    specials: Mapping[str, str] = field(default_factory=dict)
    loop_item: int | None = None  # what item() reads (one row of a stacked loop frame)
    loop_iteration: int | None = None

    def value(self, name: str) -> object | None:
        if self.specials.get(name):
            return None
        return self.values.get(name)

    def special(self, name: str) -> str | None:
        return self.specials.get(name) or None


def truthy(value: object) -> bool:
    """The language's truthiness: None false, numbers non-zero, strings and lists non-empty."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return bool(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)  # bool is an int: true/false count as 1/0


def _as_number(value: object) -> float:
    """A number for arithmetic; booleans become 0/1 (callers check :func:`_is_number` first)."""
    return int(value) if isinstance(value, bool) else value  # type: ignore[return-value]


def _family(value: object) -> str:
    """Kinds that may be compared with each other."""
    if _is_number(value):
        return "num"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _py_eq(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if _family(left) != _family(right):
        return False
    if isinstance(left, tuple | list) and isinstance(right, tuple | list):
        return list(left) == list(right)
    return left == right


_ORDERING: Mapping[str, Callable[[object, object], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def _py_compare(op: str, left: object, right: object) -> bool:
    if op == "=":
        return _py_eq(left, right)
    if op == "!=":
        return not _py_eq(left, right)
    if left is None or right is None:
        return False
    family = _family(left)
    if family not in ("num", "str") or family != _family(right):
        return False
    return _ORDERING[op](left, right)


def _py_arith(op: str, left: object, right: object) -> object:
    if not (_is_number(left) and _is_number(right)):
        return None
    a: float = int(left) if isinstance(left, bool) else left  # type: ignore[assignment]
    b: float = int(right) if isinstance(right, bool) else right  # type: ignore[assignment]
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    return a / b if op == "/" else a % b


def _round_half_away(value: float) -> float:
    """Round to an integer, ties away from zero, exactly like Rust's ``f64::round`` used by polars."""
    whole = math.trunc(value)
    if abs(value - whole) >= 0.5:
        whole += 1 if value > 0 else -1
    return float(whole)


def _py_round(value: object, digits: int) -> object:
    if not _is_number(value):
        return None
    if isinstance(value, int):
        return int(value)
    assert isinstance(value, float)
    if not math.isfinite(value):
        return value
    scale = 10.0**digits
    return _round_half_away(value * scale) / scale


def _py_extreme(values: Sequence[object], pick: Callable[..., object]) -> object:
    present = [value for value in values if value is not None]
    if not present:
        return None
    families = {_family(value) for value in present}
    if families == {"num"}:
        return pick(int(v) if isinstance(v, bool) else v for v in present)
    if families == {"str"}:
        return pick(present)
    return None


class _Evaluator:
    def __init__(self, scope: Scope, self_value: object) -> None:
        self.scope = scope
        self.self_value = self_value

    def eval(self, node: Node) -> object:
        match node:
            case Literal(value=value):
                return value
            case Name(name=name):
                return self.scope.value(name)
            case SelfRef():
                return self.self_value
            case Unary(operand=operand):
                value = self.eval(operand)
                return -_as_number(value) if _is_number(value) else None
            case Not(operand=operand):
                return not truthy(self.eval(operand))
            case Binary(op=op, left=left, right=right):
                return _py_arith(op, self.eval(left), self.eval(right))
            case Compare(op=op, left=left, right=right):
                return _py_compare(op, self.eval(left), self.eval(right))
            case Logical(op="and", left=left, right=right):
                return truthy(self.eval(left)) and truthy(self.eval(right))
            case Logical(left=left, right=right):
                return truthy(self.eval(left)) or truthy(self.eval(right))
            case Membership(operand=operand, items=items, negated=negated):
                value = self.eval(operand)
                found = value is not None and any(_py_eq(value, self.eval(item)) for item in items)
                return not found if negated else found
            case Call():
                return self.call(node)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    def call(self, node: Call) -> object:
        args = node.args
        function = node.function
        if function in ("item", "iteration"):
            return getattr(self.scope, f"loop_{function}", None)
        if function == "indexed":
            number = self.eval(args[1])
            if not (_is_number(number) and float(number).is_integer()):  # type: ignore[arg-type]
                return None
            return self.scope.value(f"{args[0].name}_{int(number)}")  # type: ignore[union-attr, arg-type]
        if FUNCTIONS[function].name_first:
            name = args[0].name  # type: ignore[union-attr]
            if function == "dont_know" or function == "refused":
                return self.scope.special(name) == function
            value = self.scope.value(name)
            if function == "answered":
                return value is not None
            if function == "count_selected":
                return 0 if value is None else len(value) if isinstance(value, list | tuple) else 1
            code = args[1].value if isinstance(args[1], Literal) else self.eval(args[1])
            if isinstance(value, list | tuple | set | frozenset):
                return code in value
            return _py_eq(value, code)
        if function == "if":
            return self.eval(args[1]) if truthy(self.eval(args[0])) else self.eval(args[2])
        if function == "coalesce":
            for arg in args:
                value = self.eval(arg)
                if value is not None:
                    return value
            return None
        values = [self.eval(arg) for arg in args]
        if function == "min":
            return _py_extreme(values, min)
        if function == "max":
            return _py_extreme(values, max)
        value = values[0]
        if function == "abs":
            return abs(_as_number(value)) if _is_number(value) else None
        if function == "round":
            return _py_round(value, values[1] if len(values) > 1 else 0)  # type: ignore[arg-type]
        if function == "length":
            return len(value) if isinstance(value, str) else None
        raise AssertionError(function)  # pragma: no cover - FUNCTIONS and evaluator agree


# --------------------------------------------------------------------------------------------------
# Polars compilation
# --------------------------------------------------------------------------------------------------


class ColumnResolver(Protocol):
    """Maps question names onto polars expressions over some frame layout.

    A resolver may also offer ``dtype(name) -> pl.DataType | None``; when it does, the compiler uses
    the dtypes to fold comparisons between different kinds (which polars would refuse) statically.
    """

    def column(self, name: str) -> pl.Expr:
        """Substantive value column (null when missing or special)."""
        ...

    def selected(self, name: str, code: int) -> pl.Expr:
        """Boolean: the multi-choice question contains ``code`` (for single choice: equals it)."""
        ...

    def count_selected(self, name: str) -> pl.Expr:
        """Integer number of chosen codes (0 when missing)."""
        ...

    def special(self, name: str) -> pl.Expr:
        """String column: 'dont_know' / 'refused' / null."""
        ...


@dataclass
class WideFrameResolver:
    """Resolver for the wide layout: one column per single/numeric/text question, multi-choice
    questions as 0/1 columns ``f"{name}_{code}"``.

    ``special_codes[name]`` maps special code values (e.g. ``98``) to ``'dont_know'``/``'refused'``;
    such values become null in :meth:`column` and show up in :meth:`special`.  For a multi-choice
    question a special code is its own 0/1 column, and when it is set the question has no value.
    ``schema`` (e.g. ``frame.schema``) lets the compiler type the columns.
    """

    multi_codes: Mapping[str, Sequence[int]] = field(default_factory=dict)
    special_codes: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    schema: Mapping[str, pl.DataType | type[pl.DataType]] = field(default_factory=dict)
    #: a frame stacked over a loop (one row per iteration): the column holding the item, read by item()
    loop_column: str | None = None

    def loop_item(self) -> pl.Expr:
        return pl.col(self.loop_column) if self.loop_column else pl.lit(None, dtype=pl.Int64)

    def _substantive_codes(self, name: str) -> list[int]:
        specials = self.special_codes.get(name, {})
        return [code for code in self.multi_codes[name] if code not in specials]

    def _code_column(self, name: str, code: int) -> pl.Expr:
        return pl.col(f"{name}_{code}")

    def dtype(self, name: str) -> pl.DataType | None:
        if name in self.multi_codes:
            return pl.List(pl.Int64)
        dtype = self.schema.get(name)
        return dtype() if isinstance(dtype, type) else dtype

    def column(self, name: str) -> pl.Expr:
        if name in self.multi_codes:
            codes = self._substantive_codes(name)
            if not codes:
                return pl.lit(None, dtype=pl.List(pl.Int64))
            chosen = pl.concat_list(
                [pl.when(self._code_column(name, c) == 1).then(pl.lit(c, dtype=pl.Int64)) for c in codes]
            ).list.drop_nulls()
            answered = pl.any_horizontal([self._code_column(name, c).is_not_null() for c in codes])
            return pl.when(answered & self.special(name).is_null()).then(chosen)
        if self.special_codes.get(name):
            return pl.when(self.special(name).is_null()).then(pl.col(name))
        return pl.col(name)

    def selected(self, name: str, code: int) -> pl.Expr:
        if name in self.multi_codes:
            if code not in self._substantive_codes(name):
                return pl.lit(False)
            return ((self._code_column(name, code) == 1) & self.special(name).is_null()).fill_null(False)
        kind = _kind_of_dtype(self.dtype(name))
        if kind not in (_Kind.NUM, _Kind.ANY):
            return pl.lit(False)
        return (self.column(name) == code).fill_null(False)

    def count_selected(self, name: str) -> pl.Expr:
        if name in self.multi_codes:
            codes = self._substantive_codes(name)
            if not codes:
                return pl.lit(0, dtype=pl.Int64)
            total = pl.sum_horizontal([(self._code_column(name, c) == 1).cast(pl.Int64) for c in codes])
            return pl.when(self.special(name).is_null()).then(total).otherwise(pl.lit(0, dtype=pl.Int64))
        return self.column(name).is_not_null().cast(pl.Int64)

    def special(self, name: str) -> pl.Expr:
        result = pl.lit(None, dtype=pl.String)
        for code, label in reversed(list(self.special_codes.get(name, {}).items())):
            source = self._code_column(name, code) == 1 if name in self.multi_codes else pl.col(name) == code
            result = pl.when(source.fill_null(False)).then(pl.lit(label)).otherwise(result)
        return result

    def scope_for_row(self, row: Mapping[str, object]) -> DictScope:
        """The Python view of one wide row (e.g. from ``frame.iter_rows(named=True)``), consistent
        with the column expressions above, so one respondent can be screened without polars."""
        values: dict[str, object] = dict(row)
        specials: dict[str, str] = {}
        for name in self.multi_codes:
            labels = self.special_codes.get(name, {})
            hit = [label for code, label in labels.items() if row.get(f"{name}_{code}") == 1]
            if hit:
                specials[name] = hit[0]
                values[name] = None
                continue
            substantive = self._substantive_codes(name)
            cells = {code: row.get(f"{name}_{code}") for code in substantive}
            answered = any(cell is not None for cell in cells.values())
            values[name] = [code for code, cell in cells.items() if cell == 1] if answered else None
        for name, labels in self.special_codes.items():
            if name in self.multi_codes:
                continue
            value = row.get(name)
            hit = [label for code, label in labels.items() if value is not None and value == code]
            if hit:
                specials[name] = hit[0]
                values[name] = None
        item = row.get(self.loop_column) if self.loop_column else None
        return DictScope(values, specials, loop_item=item)  # type: ignore[arg-type]


class _Kind(enum.Enum):
    """Static kind of a compiled polars expression (ANY: unknown column type)."""

    NUM = "num"
    BOOL = "bool"
    STR = "str"
    LIST = "list"
    NULL = "null"
    ANY = "any"


_Compiled: TypeAlias = "tuple[pl.Expr, _Kind]"  # a string: polars is imported on first use


def _kind_of_dtype(dtype: pl.DataType | None) -> _Kind:
    if dtype is None:
        return _Kind.ANY
    if dtype == pl.Boolean:
        return _Kind.BOOL
    if dtype.is_numeric():
        return _Kind.NUM
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return _Kind.STR
    if isinstance(dtype, pl.List | pl.Array):
        return _Kind.LIST
    if dtype == pl.Null:
        return _Kind.NULL
    return _Kind.ANY


def _family_of(kind: _Kind) -> str | None:
    """Comparable family, None when unknown (ANY) or absent (NULL)."""
    if kind in (_Kind.NUM, _Kind.BOOL):
        return "num"
    if kind in (_Kind.ANY, _Kind.NULL):
        return None
    return kind.value


def _numeric(expr: pl.Expr, kind: _Kind) -> pl.Expr:
    return expr.cast(pl.Int64) if kind is _Kind.BOOL else expr


def _null() -> _Compiled:
    return pl.lit(None), _Kind.NULL


def _pl_truthy(expr: pl.Expr, kind: _Kind) -> pl.Expr:
    if kind is _Kind.BOOL:
        return expr.fill_null(False)
    if kind is _Kind.NUM:
        return (expr != 0).fill_null(False)
    if kind is _Kind.STR:
        return (expr.str.len_chars() > 0).fill_null(False)
    if kind is _Kind.LIST:
        return (expr.list.len() > 0).fill_null(False)
    if kind is _Kind.NULL:
        return pl.lit(False)
    return expr.cast(pl.Boolean, strict=False).fill_null(False)


def _pl_eq(left: _Compiled, right: _Compiled) -> pl.Expr:
    (lexpr, lkind), (rexpr, rkind) = left, right
    if lkind is _Kind.NULL and rkind is _Kind.NULL:
        return pl.lit(True)
    if lkind is _Kind.NULL:
        return rexpr.is_null()
    if rkind is _Kind.NULL:
        return lexpr.is_null()
    lfam, rfam = _family_of(lkind), _family_of(rkind)
    if lfam is not None and rfam is not None and lfam != rfam:
        return lexpr.is_null() & rexpr.is_null()
    if {lkind, rkind} == {_Kind.BOOL, _Kind.NUM}:
        lexpr, rexpr = _numeric(lexpr, lkind), _numeric(rexpr, rkind)
    return lexpr.eq_missing(rexpr)


def _pl_order(op: str, left: _Compiled, right: _Compiled) -> pl.Expr:
    (lexpr, lkind), (rexpr, rkind) = left, right
    lfam, rfam = _family_of(lkind), _family_of(rkind)
    if _Kind.NULL in (lkind, rkind) or "list" in (lfam, rfam):
        return pl.lit(False)
    if lfam is not None and rfam is not None and lfam != rfam:
        return pl.lit(False)
    lexpr, rexpr = _numeric(lexpr, lkind), _numeric(rexpr, rkind)
    result = {"<": lexpr < rexpr, "<=": lexpr <= rexpr, ">": lexpr > rexpr, ">=": lexpr >= rexpr}[op]
    return result.fill_null(False)


def _scalar_kind(kind: _Kind) -> bool:
    """Kinds arithmetic accepts; strings and lists make arithmetic null."""
    return kind in (_Kind.NUM, _Kind.BOOL, _Kind.ANY)


class _PolarsCompiler:
    def __init__(self, resolver: ColumnResolver, self_column: pl.Expr | None, text: str) -> None:
        self.resolver = resolver
        self.self_column = self_column
        self.text = text
        dtype = getattr(resolver, "dtype", None)
        self.dtype: Callable[[str], pl.DataType | None] = dtype if callable(dtype) else (lambda name: None)

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, position, self.text)

    def compile(self, node: Node) -> _Compiled:
        match node:
            case Literal(value=None):
                return _null()
            case Literal(value=bool() as value):
                return pl.lit(value), _Kind.BOOL
            case Literal(value=str() as value):
                return pl.lit(value, dtype=pl.String), _Kind.STR
            case Literal(value=value):
                return pl.lit(value), _Kind.NUM
            case Name(name=name):
                dtype = self.dtype(name)
                expr = self.resolver.column(name)
                if dtype is not None and (dtype == pl.Categorical or isinstance(dtype, pl.Enum)):
                    expr = expr.cast(pl.String)
                return expr, _kind_of_dtype(dtype)
            case SelfRef(position=position):
                if self.self_column is None:
                    raise self.error(_("'.' is only available when validating a value"), position)
                return self.self_column, _Kind.ANY
            case Unary(operand=operand):
                expr, kind = self.compile(operand)
                return (-_numeric(expr, kind), _Kind.NUM) if _scalar_kind(kind) else _null()
            case Not(operand=operand):
                return ~_pl_truthy(*self.compile(operand)), _Kind.BOOL
            case Binary(op=op, left=left, right=right):
                return self.arith(op, self.compile(left), self.compile(right))
            case Compare(op=op, left=left, right=right):
                lhs, rhs = self.compile(left), self.compile(right)
                if op in ("=", "!="):
                    eq = _pl_eq(lhs, rhs)
                    return (eq if op == "=" else ~eq), _Kind.BOOL
                return _pl_order(op, lhs, rhs), _Kind.BOOL
            case Logical(op=op, left=left, right=right):
                lhs, rhs = _pl_truthy(*self.compile(left)), _pl_truthy(*self.compile(right))
                return (lhs & rhs if op == "and" else lhs | rhs), _Kind.BOOL
            case Membership(operand=operand, items=items, negated=negated):
                value = self.compile(operand)
                hits = [_pl_eq(value, self.compile(item)) for item in items]
                found = value[0].is_not_null() & pl.any_horizontal(hits)
                return (~found if negated else found), _Kind.BOOL
            case Call():
                return self.call(node)
        raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover

    def arith(self, op: str, left: _Compiled, right: _Compiled) -> _Compiled:
        (lexpr, lkind), (rexpr, rkind) = left, right
        if not (_scalar_kind(lkind) and _scalar_kind(rkind)):
            return _null()
        lexpr, rexpr = _numeric(lexpr, lkind), _numeric(rexpr, rkind)
        if op == "+":
            return lexpr + rexpr, _Kind.NUM
        if op == "-":
            return lexpr - rexpr, _Kind.NUM
        if op == "*":
            return lexpr * rexpr, _Kind.NUM
        result = lexpr / rexpr if op == "/" else lexpr % rexpr
        return pl.when(rexpr == 0).then(None).otherwise(result), _Kind.NUM

    def call(self, node: Call) -> _Compiled:
        function, args = node.function, node.args
        if function in ("item", "iteration"):
            source = getattr(self.resolver, f"loop_{function}", None)
            return (source(), _Kind.NUM) if callable(source) else _null()
        if function == "indexed":
            index = args[1]
            if not isinstance(index, Literal):
                raise self.error(
                    _("indexed() with a computed iteration works in interviews, not in bulk filters"), index.position
                )
            if not (_is_number(index.value) and float(index.value).is_integer()):  # type: ignore[arg-type]
                return _null()
            return self.compile(Name(f"{args[0].name}_{int(index.value)}", args[0].position))  # type: ignore[union-attr, arg-type]
        if FUNCTIONS[function].name_first:
            name = args[0].name  # type: ignore[union-attr]
            if function in ("dont_know", "refused"):
                return (self.resolver.special(name) == function).fill_null(False), _Kind.BOOL
            if function == "answered":
                return self.resolver.column(name).is_not_null(), _Kind.BOOL
            if function == "count_selected":
                return self.resolver.count_selected(name).cast(pl.Int64), _Kind.NUM
            if not isinstance(args[1], Literal):
                raise ExpressionError(
                    _("selected() with a computed code works in interviews, not in bulk filters"),
                    args[1].position,
                    self.text,
                )
            code = args[1].value
            return self.resolver.selected(name, code).fill_null(False), _Kind.BOOL  # type: ignore[arg-type]
        compiled = [self.compile(arg) for arg in args]
        if function == "if":
            condition = _pl_truthy(*compiled[0])
            (then, otherwise), kind = self.unify(compiled[1:], node)
            return pl.when(condition).then(then).otherwise(otherwise), kind
        if function == "coalesce":
            exprs, kind = self.unify(compiled, node)
            return pl.coalesce(exprs), kind
        if function in ("min", "max"):
            return self.extreme(function, compiled)
        expr, kind = compiled[0]
        if function == "length":
            if kind in (_Kind.STR, _Kind.ANY):
                return expr.str.len_chars().cast(pl.Int64), _Kind.NUM
            return _null()
        if not _scalar_kind(kind):
            return _null()
        expr = _numeric(expr, kind)
        if function == "abs":
            return expr.abs(), _Kind.NUM
        digits = int(args[1].value) if len(args) > 1 else 0  # type: ignore[union-attr, arg-type]
        if kind is _Kind.ANY:
            expr = expr.cast(pl.Float64)
        return expr.round(digits, mode="half_away_from_zero"), _Kind.NUM

    def unify(self, compiled: Sequence[_Compiled], node: Call) -> tuple[list[pl.Expr], _Kind]:
        """Branches of one polars column must share a kind; numbers absorb booleans."""
        families = {_family_of(kind) for _, kind in compiled} - {None}
        if len(families) > 1:
            mixed = " and ".join(sorted(families))
            message = _("arguments of {function}() mix kinds ({kinds})").format(function=node.function, kinds=mixed)
            raise self.error(message, node.position)
        kinds = {kind for _, kind in compiled} - {_Kind.NULL}
        if len(kinds) == 1:
            return [expr for expr, _ in compiled], kinds.pop()
        if not kinds:
            return [expr for expr, _ in compiled], _Kind.NULL
        if families == {"num"}:
            return [_numeric(expr, kind) for expr, kind in compiled], _Kind.NUM
        return [expr for expr, _ in compiled], _Kind.ANY

    def extreme(self, function: str, compiled: Sequence[_Compiled]) -> _Compiled:
        present = [(expr, kind) for expr, kind in compiled if kind is not _Kind.NULL]
        if not present:
            return _null()
        families = {_family_of(kind) for _, kind in present} - {None}
        if "list" in families or len(families) > 1:
            return _null()
        exprs = [_numeric(expr, kind) for expr, kind in present]
        horizontal = pl.min_horizontal if function == "min" else pl.max_horizontal
        kind = _Kind.NUM if families == {"num"} else _Kind.STR if families == {"str"} else _Kind.ANY
        return horizontal(exprs), kind
