"""XLSForm both ways: the open questionnaire standard of ODK, KoboToolbox and SurveyCTO.

Import reads the file with the XLSForm project's own parser (pyxform: .xlsx, .xls and its markdown
tables), so aliases, old spellings ("select one from x") and `label::English (en)` columns mean what
they mean everywhere else, then translates the result to our instrument: types, labels per language,
choice lists with numeric codes, required, relevant/constraint/calculate translated to our expression
language, groups as sections, table-list groups as grids. Whatever has no equivalent here (repeats,
GPS and media widgets, unknown functions) is listed per row with a clear message — never silently
dropped — and the rest is imported unless the user asks for strict mode.

Export writes an .xlsx that pyxform converts without error, with the same questions, choices and logic.
"""

from __future__ import annotations

import contextvars
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from survey_tui.core.instrument.expressions import (
    Binary,
    Call,
    Compare,
    DictScope,
    ExpressionError,
    Literal,
    Logical,
    Membership,
    Name,
    Node,
    Not,
    SelfRef,
    Unary,
    parse_expression,
)
from survey_tui.core.instrument.loader import compile_instrument, load_instrument_text
from survey_tui.core.instrument.model import (
    MAX_ITERATIONS,
    PIPE_PATTERN,
    Instrument,
    LoopPlan,
    Question,
    Section,
    label_text,
)
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import dump_yaml, write_bytes_atomic, write_text_atomic
from survey_tui.i18n import N_, _

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".md")
#: the largest count of a loop whose counting question sets none (a repeat the interviewer extends)
DEFAULT_LOOP_MAX = 20
#: room left in a 64-character name for a loop variable's suffix (`_<code>`)
MAX_TEMPLATE = 56

#: names Babel's CLDR data does not give as written in XLSForms (CLDR says "Chinese (Traditional)")
LANGUAGE_NAMES = {
    "chinese": "zh",
    "traditional chinese": "zh-TW",
    "chinese traditional": "zh-TW",
    "simplified chinese": "zh-CN",
    "chinese simplified": "zh-CN",
    "chinese (traditional)": "zh-TW",
    "chinese (simplified)": "zh-CN",
}
TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

#: XLSForm metadata that survey-tui records by itself for every interview.
METADATA = {
    "start": N_("the interview's start time is recorded for every interview"),
    "end": N_("the interview's end time is recorded for every interview"),
    "today": N_("the interview date is recorded for every interview"),
    "deviceid": N_("the device is recorded for every interview"),
    "username": N_("the interviewer is recorded for every interview"),
    "audit": N_("paradata (time per question) are recorded for every interview"),
}
UNSUPPORTED_TYPES = {
    "geopoint": N_("GPS location widget"),
    "geotrace": N_("GPS trace widget"),
    "geoshape": N_("GPS shape widget"),
    "start-geopoint": N_("GPS location at start"),
    "osm": N_("OpenStreetMap widget"),
    "photo": N_("photo widget"),
    "image": N_("photo widget"),
    "audio": N_("audio recording widget"),
    "background-audio": N_("background audio recording"),
    "video": N_("video widget"),
    "file": N_("file upload widget"),
    "barcode": N_("barcode scanner widget"),
    "time": N_("time-of-day widget"),
    "dateTime": N_("date-and-time widget"),
    "datetime": N_("date-and-time widget"),
    "acknowledge": N_("acknowledge (OK button) widget"),
    "trigger": N_("acknowledge (OK button) widget"),
    "rank": N_("ranking widget"),
    "hidden": N_("hidden field"),
    "select one external": N_("external (CSV) choice list"),
    "select_one_from_file": N_("choice list from a file"),
    "select_multiple_from_file": N_("choice list from a file"),
    "xml-external": N_("external XML data"),
    "csv-external": N_("external CSV data"),
    "simserial": N_("SIM serial metadata"),
    "subscriberid": N_("subscriber id metadata"),
    "phonenumber": N_("phone number metadata"),
    "email": N_("e-mail metadata"),
}
#: a decimal question accepts as many places as a double keeps (XLSForm sets no limit; 15 digits are checked)
DECIMAL_PLACES = 10
XLS_FUNCTIONS = {
    "selected": "selected",
    "count-selected": "count_selected",
    "if": "if",
    "round": "round",
    "abs": "abs",
    "min": "min",
    "max": "max",
    "coalesce": "coalesce",
    "string-length": "length",
    "not": "not",
}


class Unsupported(ValueError):
    """An XLSForm construct with no equivalent in our expression language."""


@dataclass
class _Context:
    """What translating one expression needs: names after renaming, and choice name -> code per question."""

    renames: dict[str, str]
    codes: dict[str, dict[str, int]]  # question -> {choice name: code}
    self_name: str | None = None
    dropped: set[str] = field(default_factory=set)  # questions that were left out of the import
    multis: set[str] = field(default_factory=set)  # select_multiple questions (names after renaming)
    loop_kind: str | None = None  # the expression belongs to a question in a loop of this kind (over/count/choices)
    same: dict[str, dict[int, tuple[int, ...]]] = field(default_factory=dict)  # question -> code -> same-name codes
    items: set[str] = field(default_factory=set)  # calculates that name the item of a loop over ticked choices
    notes: list[str] = field(default_factory=list)  # what the translation changed, for a warning


# ---------------------------------------------------------------------------------------------------
# XLSForm expressions -> ours
# ---------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s+|(?P<ref>\$\{[^}]*\})|(?P<str>'[^']*'|"[^"]*")|(?P<num>\d+(?:\.\d+)?|\.\d+)"""
    r"""|(?P<path>\.\.?/[A-Za-z_/][\w./-]*|/[A-Za-z_][\w./-]*)|(?P<dotdot>\.\.)|(?P<dot>\.)"""
    r"""|(?P<op>!=|<=|>=|=|<|>|\+|-|\*|\||\(|\)|,)|(?P<word>[A-Za-z_][\w:.-]*)"""
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise Unsupported(
                _("the character {char!r} at position {position}").format(char=text[pos], position=pos + 1)
            )
        pos = match.end()
        if match.lastgroup is None:
            continue
        out.append((match.lastgroup, match.group(match.lastgroup)))
    return out


def translate_expression(text: str, ctx: _Context) -> str:
    """`${q} = 'x'`, `selected(${q}, 'x')`, `count-selected`, and/or/not, arithmetic, `.` -> our language.

    Raises `Unsupported` naming the construct (an unknown function, a repeat path, ...).
    """
    toks = _tokens(text)
    names: list[str | None] = []  # the question each token refers to (for choice-name -> code)
    out: list[str] = []
    i = 0
    while i < len(toks):
        kind, value = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else ("", "")
        if kind in ("ref", "path", "dot"):
            name = _ref_name(kind, value, ctx)
            if kind == "dot" and ctx.self_name and out[-2:] in (["selected", "("], ["count_selected", "("]):
                name = ctx.self_name  # selected(., 'x') in a constraint: this question's own answer
            out.append(name)
            names.append(ctx.self_name if kind == "dot" else name)
        elif kind == "dotdot":
            raise Unsupported(_("the parent path '..'"))
        elif kind == "word" and value.lower() == "indexed-repeat":
            # indexed-repeat(${q}, ${repeat}, n): iteration n of q (count loops and fixed lists number 1..n)
            shape = [t[0] if t[0] == "ref" else t[1] for t in toks[i + 1 : i + 6]]
            if shape != ["(", "ref", ",", "ref", ","] or ctx.loop_kind == "over":
                raise Unsupported(
                    _("indexed-repeat() other than indexed-repeat(${{question}}, ${{repeat}}, number)").format()
                )
            target = _ref_name("ref", toks[i + 2][1], ctx)
            out.extend(["indexed", "(", target, ","])
            names.extend([None, None, target, None])
            i += 6
            continue
        elif kind == "word" and value.lower() == "position" and [t[1] for t in toks[i + 1 : i + 4]] == ["(", "..", ")"]:
            if ctx.loop_kind not in ("count", "choices"):
                if ctx.loop_kind is None:
                    where = _("position(..) outside a repeat (survey-tui numbers iterations over every choice)")
                else:
                    where = _(
                        "position(..) in a repeat over ticked choices (survey-tui numbers iterations over every choice)"
                    )
                raise Unsupported(where)
            out.extend(["iteration", "(", ")"])
            names.extend([None, None, None])
            i += 4
            continue
        elif kind == "word" and value.lower() in ("and", "or", "div", "mod"):
            out.append({"div": "/", "mod": "%"}.get(value.lower(), value.lower()))
            names.append(None)
        elif kind == "word":
            low = value.lower()
            if nxt[1] == "(":
                if low in ("true", "false") and i + 2 < len(toks) and toks[i + 2][1] == ")":
                    out.append(low)
                    names.append(None)
                    i += 3
                    continue
                if low not in XLS_FUNCTIONS:
                    raise Unsupported(_("the function {name}()").format(name=value))
                out.append(XLS_FUNCTIONS[low])
                names.append(None)
            else:
                raise Unsupported(_("the name '{name}' (XLSForm needs ${{{name}}} for a question)").format(name=value))
        elif kind == "op" and value == "|":
            raise Unsupported(_("the node-set union '|'"))
        else:
            out.append(value)
            names.append(None)
        i += 1
    _codes_for_strings(out, names, ctx)
    translated = _join(out)
    try:
        root = parse_expression(translated).root
    except ExpressionError as exc:
        raise Unsupported(_("an expression our language cannot read ({error})").format(error=exc.message)) from exc
    return _ours(_multi_equality(root, ctx))


def _multi_equality(node: Node, ctx: _Context) -> Node:
    """`${m} = 'x'` on a select_multiple means "only x ticked" in ODK (the answer is the text 'x'); say so.

    Any other comparison or arithmetic with a select_multiple's raw answer ('a b' as text) is refused.
    """

    def is_multi(n: Node) -> bool:
        return (isinstance(n, Name) and n.name in ctx.multis) or (
            isinstance(n, SelfRef) and ctx.self_name is not None and ctx.self_name in ctx.multis
        )

    def shared(q: Node, code: Node) -> tuple[int, ...] | None:
        """The codes that store the same choice name as `code` in ODK (a name listed twice)."""
        if isinstance(q, Name) and isinstance(code, Literal) and isinstance(code.value, int):
            return (ctx.same.get(q.name) or {}).get(code.value)
        return None

    def walk(n: Node) -> Node:
        match n:
            case Compare(op="=" | "!=" as op, left=Name() as q, right=Literal() as code) if shared(q, code):
                codes = tuple(Literal(c, n.position) for c in shared(q, code) or ())
                return Membership(q, codes, op == "!=", n.position)
            case Call(function="selected", args=(Name() as q, Literal() as code)) if shared(q, code):
                if q.name in ctx.multis:
                    raise Unsupported(
                        _("the choice name of code {code} of '{question}', which is listed twice").format(
                            code=code.value, question=q.name
                        )
                    )
                return Membership(q, tuple(Literal(c, n.position) for c in shared(q, code) or ()), False, n.position)
            case Compare(op=op, left=left, right=right) if is_multi(left) or is_multi(right):
                multi, other = (left, right) if is_multi(left) else (right, left)
                if op not in ("=", "!=") or not isinstance(other, Literal) or isinstance(multi, SelfRef):
                    raise Unsupported(
                        _("'{op}' on the select_multiple answer '{answer}'").format(op=op, answer=_ours(multi))
                    )
                if other.value is None:
                    return n
                only = Logical(
                    "and",
                    Call("selected", (multi, other), n.position),
                    Compare("=", Call("count_selected", (multi,), n.position), Literal(1, n.position), n.position),
                    n.position,
                )
                return only if op == "=" else Not(only, n.position)
            case Membership(operand=operand) if is_multi(operand):
                raise Unsupported(
                    _("comparing the select_multiple answer '{answer}' with a list").format(answer=_ours(operand))
                )
            case Binary(left=left, right=right) if is_multi(left) or is_multi(right):
                raise Unsupported(_("arithmetic on a select_multiple answer"))
            case Unary(op=op, operand=operand, position=pos):
                return Unary(op, walk(operand), pos)
            case Not(operand=operand, position=pos):
                return Not(walk(operand), pos)
            case Binary(op=op, left=left, right=right, position=pos):
                return Binary(op, walk(left), walk(right), pos)
            case Compare(op=op, left=left, right=right, position=pos):
                return Compare(op, walk(left), walk(right), pos)
            case Logical(op=op, left=left, right=right, position=pos):
                return Logical(op, walk(left), walk(right), pos)
            case Membership(operand=operand, items=items, negated=negated, position=pos):
                return Membership(walk(operand), tuple(walk(i) for i in items), negated, pos)
            case Call(function=function, args=args, position=pos):
                return Call(function, tuple(walk(a) for a in args), pos)
        return n

    return walk(node)


_PREC = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "neg": 7}


def canonical(text: str) -> str:
    """An expression in our language written one standard way (minimal parentheses, `x in (...)`)."""
    return _ours(parse_expression(text).root)


def _or_chain(node: Node) -> list[Node]:
    if isinstance(node, Logical) and node.op == "or":
        return _or_chain(node.left) + _or_chain(node.right)
    return [node]


def _ours(node: Node, parent: int = 0) -> str:
    prec, text = 8, ""
    match node:
        case Literal(value=value):
            if value is None:
                text = "null"
            elif isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, str):
                text = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
            elif isinstance(value, float):
                text = f"{value:g}"
            else:
                text = str(value)
        case Name(name=name):
            text = name
        case SelfRef():
            text = "."
        case Unary(operand=operand):
            prec, text = 7, "-" + _ours(operand, 7)
        case Not(operand=operand):
            prec, text = 3, "not " + _ours(operand, 3)
        case Binary(op=op, left=left, right=right):
            prec = _PREC[op]
            text = f"{_ours(left, prec)} {op} {_ours(right, prec + 1)}"
        case Compare(op=op, left=left, right=right):
            prec, text = 4, f"{_ours(left, 5)} {op} {_ours(right, 5)}"
        case Logical(op=op, left=left, right=right):
            leaves = _or_chain(node) if op == "or" else []
            if (
                len(leaves) >= 2
                and all(
                    isinstance(x, Compare) and x.op == "=" and isinstance(x.left, Name) and isinstance(x.right, Literal)
                    for x in leaves
                )
                and len({x.left.name for x in leaves}) == 1  # type: ignore[union-attr]
            ):
                first = leaves[0]
                assert isinstance(first, Compare)
                items = ", ".join(_ours(x.right) for x in leaves)  # type: ignore[union-attr]
                prec, text = 4, f"{_ours(first.left, 5)} in ({items})"
            else:
                prec = _PREC[op]
                text = f"{_ours(left, prec)} {op} {_ours(right, prec + 1)}"
        case Membership(operand=operand, items=items, negated=negated):
            prec = 4
            text = f"{_ours(operand, 5)} {'not in' if negated else 'in'} ({', '.join(_ours(i) for i in items)})"
        case Call(function=function, args=args):
            text = f"{function}({', '.join(_ours(a) for a in args)})"
    return f"({text})" if prec < parent else text


def _join(tokens: list[str]) -> str:
    """Tokens back to text the way people write it: `selected(q, 1) and not (a > 2)`."""
    text = ""
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        if (
            not text
            or token in (")", ",")
            or prev == "("
            or token == "("
            and prev in {*XLS_FUNCTIONS.values()} - {"not"}
        ):
            text += token
        elif token == "-" and prev in ("(", ",", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "and", "or"):
            text += " " + token
        elif prev == "-" and i >= 2 and tokens[i - 2] in ("(", ",", "=", "!=", "<", "<=", ">", ">=", "and", "or"):
            text += token
        else:
            text += " " + token
    return text


def _ref_name(kind: str, value: str, ctx: _Context) -> str:
    if kind == "dot":
        return "."
    raw = value[2:-1] if kind == "ref" else value.rstrip("/").split("/")[-1]
    if raw in ctx.items:
        return "item()"  # ODK's loop-and-merge: selected-at(${m}, position(..) - 1) is the loop's item
    if raw in ctx.dropped:
        raise Unsupported(_("the question '{name}', which was left out").format(name=raw))
    if kind == "path" and raw not in ctx.renames:
        raise Unsupported(_("the path '{path}'").format(path=value))
    return ctx.renames.get(raw, raw)


def _codes_for_strings(out: list[str], names: list[str | None], ctx: _Context) -> None:
    """A choice name compared with (or selected in) a coded question becomes its numeric code."""

    def code_of(question: str | None, literal: str) -> str | None:
        if question is None or question not in ctx.codes:
            return None
        choice = literal[1:-1]
        if choice in ctx.codes[question]:
            return str(ctx.codes[question][choice])
        return None

    def no_such_choice(i: int, question: str) -> None:
        """ODK compares the stored text: a name no choice has never matches (`=` false, `!=` true)."""
        choice = out[i][1:-1]
        if i >= 2 and out[i - 1] in ("=", "!=") and names[i - 2] == question:
            out[i - 2], out[i - 1], out[i] = ("false" if out[i - 1] == "=" else "true"), "", ""
        elif i + 2 < len(out) and out[i + 1] in ("=", "!=") and names[i + 2] == question:
            out[i], out[i + 1], out[i + 2] = ("false" if out[i + 1] == "=" else "true"), "", ""
        elif i >= 4 and i + 1 < len(out) and out[i - 4 : i - 1] == ["selected", "(", out[i - 2]] and out[i + 1] == ")":
            out[i - 4 : i + 2] = ["false", "", "", "", "", ""]
        else:
            raise Unsupported(
                _("the choice '{choice}', which is not in the choices of '{question}'").format(
                    choice=choice, question=question
                )
            )
        ctx.notes.append(
            _("'{choice}' is not a choice of '{question}', so (as in ODK) that comparison never matches").format(
                choice=choice, question=question
            )
        )

    for i, token in enumerate(out):
        if not (token.startswith("'") or token.startswith('"')):
            continue
        question = None
        if i >= 2 and out[i - 1] in ("=", "!=") and names[i - 2] is not None:
            question = names[i - 2]
        elif i + 2 < len(out) and out[i + 1] in ("=", "!=") and names[i + 2] is not None:
            question = names[i + 2]
        elif i >= 3 and out[i - 1] == "," and out[i - 3] == "(" and out[i - 4 : i - 3] == ["selected"]:
            question = names[i - 2]
        if token in ("''", '""') and question is not None:
            continue
        code = code_of(question, token)
        if code is not None:
            out[i] = code
        elif question is not None and question in ctx.codes:
            no_such_choice(i, question)
    # `${q} = ''` / `${q} != ''`: unanswered / answered
    for i, token in enumerate(out):
        if token in ("''", '""') and i >= 2 and out[i - 1] in ("=", "!=") and names[i - 2] not in (None,):
            name = out[i - 2]
            out[i - 2] = ("not " if out[i - 1] == "=" else "") + f"answered({name})"
            out[i - 1] = ""
            out[i] = ""
    out[:] = ["null" if t in ("''", '""') else t for t in out if t != ""]


# ---------------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    instrument_id: str
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    questions: int = 0
    source: str = ""

    def yaml_text(self) -> str:
        header = (
            f"# Imported from the XLSForm {self.source} by survey-tui.\n"
            "# Rows that could not be imported are listed by `survey-tui xlsform import`.\n"
        )
        return header + dump_yaml(self.data)

    def write(self, path: Path) -> None:
        write_text_atomic(path, self.yaml_text())


def _fold(name: str) -> str:
    """A language name compared the way people mean it: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


@functools.lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    """Language name -> BCP 47 tag, from CLDR (via Babel): English names and each language's own name."""
    from babel import Locale
    from babel.localedata import locale_identifiers

    names: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        names.setdefault(_fold(name), code.replace("_", "-"))
    for ident in sorted(locale_identifiers()):
        if "_" in ident:
            continue
        try:
            autonym = Locale.parse(ident).get_language_name(ident)
        except (ValueError, LookupError):  # pragma: no cover - CLDR lists only locales it can load
            continue
        if autonym:
            names.setdefault(_fold(autonym), ident)
    names.update({_fold(k): v for k, v in LANGUAGE_NAMES.items()})
    return names


def language_tag(name: str) -> str | None:
    """The tag of an XLSForm language column (`English (en)`, `english`, `Español`, `العربية`), None if unknown."""
    name = name.strip()
    match = re.search(r"\(([^)]+)\)\s*$", name)
    if match and TAG.match(match.group(1).strip()):
        return match.group(1).strip()
    if TAG.match(name) and (len(name) <= 3 or "-" in name):
        return name
    return _language_names().get(_fold(name))


def _language(name: str, default_tag: str | None) -> str:
    """A column's language as our tag; a name no language database knows is kept as written."""
    if name == "default":
        return default_tag or "*"
    return language_tag(name) or name.strip() or "*"


def _labels(value: Any, default_tag: str | None) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for lang, text in value.items():
            if text not in (None, ""):
                out[_language(str(lang), default_tag)] = str(text)
        return out
    return {default_tag or "*": str(value)} if str(value) else {}


def _safe_name(name: str, taken: set[str]) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name or "")
    if not clean or not clean[0].isalpha():
        clean = "q" + clean
    clean = clean[:64]
    base, n = clean, 1
    while clean in taken:
        n += 1
        clean = f"{base[:60]}_{n}"
    return clean


class _Importer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.name
        self.problems: list[Problem] = []
        self.rows: dict[str, int] = {}
        self.renames: dict[str, str] = {}
        self.codes: dict[str, dict[str, int]] = {}  # question -> choice name -> code
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.list_codes: dict[str, dict[str, int]] = {}
        self.sections: list[dict[str, Any]] = []
        self.pending: list[tuple[dict[str, Any], dict[str, Any], str]] = []  # (question, bind, xls name)
        self.default_tag: str | None = None
        self.languages: list[str] = []
        self.dropped: set[str] = set()
        self.form_choices: dict[str, list[dict[str, Any]]] = {}
        self.unknown_languages: set[str] = set()
        self.multis: set[str] = set()
        #: list -> first code -> the codes sharing its name (a name listed twice)
        self.same: dict[str, dict[int, tuple[int, ...]]] = {}
        self.items: set[str] = set()  # loop-and-merge calculates naming the item (not imported)
        self.generated: set[str] = set()  # pyxform's own `<repeat>_count` calculates (not imported)
        self.item_labels: dict[str, str] = {}  # loop-and-merge label calculates -> their loop (piped as it)
        self.same_codes: dict[str, dict[int, tuple[int, ...]]] = {}  # question -> the same, for its list
        self.node_names: dict[int, str] = {}  # a row of the form (by identity) -> our name for it
        self.calculations: dict[str, Any] = {}  # form name -> its calculation
        self.types: dict[str, str] = {}  # form name -> our type, for what a repeat_count names
        self.qdicts: dict[str, dict[str, Any]] = {}  # our name -> the imported question
        self.loop_of: dict[str, dict[str, Any]] = {}  # our name -> its loop section
        self.continued: dict[int, dict[str, Any]] = {}  # a group's section -> the one after its repeat

    def problem(self, name: str | None, message: str, severity: str = "warning") -> None:
        row = self.rows.get(name or "")
        sheet = _("{file} (survey sheet)").format(file=self.file)  # the form's sheet named `survey`
        self.problems.append(
            Problem(sheet, message, line=row, where=name, severity=severity)  # type: ignore[arg-type]
        )

    def read(self) -> dict[str, Any]:
        from pyxform.errors import PyXFormError
        from pyxform.xls2json import workbook_to_json
        from pyxform.xls2json_backends import get_xlsform

        if self.path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise LoadError(
                [
                    Problem(
                        self.file,
                        _("not an XLSForm file type ({suffix})").format(suffix=self.path.suffix or _("no suffix")),
                        hint=_("give an .xlsx, .xls or pyxform markdown (.md) file"),
                    )
                ]
            )
        try:
            workbook = get_xlsform(str(self.path))
            for index, row in enumerate(workbook.survey or []):
                name = next((v for k, v in row.items() if str(k).lower() == "name"), None)
                if name:
                    self.rows.setdefault(str(name), index + 2)  # row 1 is the header
            settings = (workbook.settings or [{}])[0] if workbook.settings else {}
            self.default_tag = None
            for key, value in settings.items():
                if str(key).lower() == "default_language" and value:
                    self.default_tag = _language(str(value), None)
            return workbook_to_json(
                workbook_dict=workbook,
                form_name=None,
                fallback_form_name=workbook.fallback_form_name,
                default_language=None,
                warnings=[],
            )
        except PyXFormError as exc:
            raise LoadError(
                [Problem(self.file, _("pyxform cannot read this form: {error}").format(error=exc))]
            ) from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            message = _("cannot read this file as an XLSForm: {error}").format(error=exc)
            raise LoadError([Problem(self.file, message)]) from exc
        except Exception as exc:  # a damaged package: broken XML (lxml), a bad zip, openpyxl's own errors
            where = getattr(exc, "position", None)
            line = where[0] if isinstance(where, tuple) and where else None
            if line:
                member = _("{kind}, line {line} of a part inside the workbook").format(
                    kind=type(exc).__name__, line=line
                )
            else:
                member = _("{kind} of a part inside the workbook").format(kind=type(exc).__name__)
            message = _("the workbook is damaged and cannot be read ({part}): {error}").format(part=member, error=exc)
            raise LoadError([Problem(self.file, message)]) from exc

    # -- structure -------------------------------------------------------------------------------
    def run(self) -> ImportResult:
        form = self.read()
        self.form_choices = form.get("choices") or {}
        children = [c for c in form.get("children", []) if not _is_meta(c)]
        self.collect_names(children)
        current: dict[str, Any] | None = None
        for child in children:
            kind = child.get("type")
            if kind == "group" and not self.grid_of(child):
                self.section(child)
                current = None
                continue
            if kind in ("repeat", "loop"):
                self.loop_section(child, None, [])
                current = None
                continue
            if current is None:
                current = self.new_section(f"part{len(self.sections) + 1}", {})
            self.element(child, current, [])
        self.sections = [s for s in self.sections if s["questions"]]
        instrument_id = _safe_name(str(form.get("id_string") or self.path.stem).lower(), set())
        title = _labels(form.get("title"), self.default_tag) or {"*": instrument_id}
        langs = self.languages or [self.default_tag or "en"]
        data: dict[str, Any] = {
            "id": instrument_id,
            "title": _label_value(title),
            "languages": langs,
            "default_language": self.default_tag if self.default_tag in langs else langs[0],
            "required_default": False,
        }
        if self.lists:
            data["choice_lists"] = self.lists
        for section in self.sections:
            if not section["label"]:
                section.pop("label")
            else:
                section["label"] = _label_value(section["label"])
            if "loop" in section:  # written before its questions, as people write it
                section["loop"] = section.pop("loop")
                section["questions"] = section.pop("questions")
        data["sections"] = self.sections
        if any(code in (98, 99) for codes in self.list_codes.values() for code in codes.values()):
            data["special_codes"] = {
                "dont_know": {"code": -98, "label": {"*": "Don't know"}},
                "refused": {"code": -99, "label": {"*": "Refused"}},
            }
            self.problem(None, _("choice codes 98/99 are used by the form: don't know / refused are -98 / -99"))
        if not data["sections"]:
            raise LoadError(
                self.problems
                + [
                    Problem(
                        self.file, _("nothing in this form could be imported (see the rows above)"), severity="error"
                    )
                ]
            )
        self.translate_logic()
        self.finish_loops()
        self.settle(data)
        count = sum(len(s["questions"]) for s in data["sections"])
        return ImportResult(instrument_id, data, self.problems, count, self.file)

    def section_names(self) -> set[str]:
        return {s["name"] for s in self.sections}

    def collect_names(self, children: list[dict[str, Any]]) -> None:
        """Our names for the form's: questions outside repeats first, so a repeat never renames them."""
        taken: set[str] = set()
        for node in _walk(children):  # pyxform turns a repeat_count other than ${q} into `<repeat>_count`
            count = str((node.get("control") or {}).get("jr:count") or "").strip()
            generated = f"{node.get('name')}_count"
            if node.get("type") == "repeat" and count == "${" + generated + "}" and generated not in self.rows:
                self.generated.add(f"{node.get('name')}_count")
        outside = _walk(children, into_repeats=False)
        inside = [n for n in _walk(children) if not any(n is o for o in outside)]
        for node in outside + inside:
            name = str(node.get("name") or "")
            if name and node.get("type") not in ("group", "repeat", "loop"):
                safe = _safe_name(name[:MAX_TEMPLATE], taken)
                taken.add(safe)
                self.node_names[id(node)] = safe
                self.renames.setdefault(name, safe)  # ${name} means the question outside repeats
                if safe != name and _safe_name(name[:MAX_TEMPLATE], set()) == safe:
                    self.problem(
                        name,
                        _("the name '{name}' became '{safe}' (letters, digits and _ only)").format(
                            name=name, safe=safe
                        ),
                    )
                elif safe != name and any(node is n for n in inside):
                    self.problem(
                        name,
                        _(
                            "the name '{name}' inside a repeat is also a question outside it; "
                            "inside, it became '{safe}'"
                        ).format(name=name, safe=safe),
                    )
                elif safe != name:
                    self.problem(
                        name,
                        _("the name '{name}' is too long for a loop variable; it became '{safe}'").format(
                            name=name, safe=safe
                        ),
                    )

    def new_section(self, name: str, label: dict[str, str], after: dict[str, Any] | None = None) -> dict[str, Any]:
        """A section appended in interview order (its questions are filled in afterwards)."""
        section: dict[str, Any] = {"name": _safe_name(name, self.taken_names()), "label": label, "questions": []}
        if after is not None and after.get("_relevant"):
            section["_relevant"] = list(after["_relevant"])
        self.sections.append(section)
        return section

    def taken_names(self) -> set[str]:
        return self.section_names() | set(self.renames.values())

    def follow(self, section: dict[str, Any]) -> dict[str, Any]:
        """Where questions of a group go now: after a repeat inside it, the section that continues it."""
        while id(section) in self.continued:
            section = self.continued[id(section)]
        return section

    def loop_section(self, node: dict[str, Any], outer: dict[str, Any] | None, relevants: list[str]) -> None:
        """A repeat (or pyxform's loop over a list) as a loop section; the rest of its group continues after it."""
        kind = str(node.get("type"))
        xls_name = str(node.get("name") or "")
        inner = [str(c.get("name")) for c in _walk(node.get("children", [])) if c.get("type") != "group"]
        if outer is not None and outer.get("loop") is not None:
            self.dropped.update(inner)
            self.problem(
                xls_name,
                _(
                    "{kind} '{name}' is inside the repeat '{outer}'; survey-tui loops do not nest, so it is left out "
                    "with its {count} question(s): {questions}"
                ).format(
                    kind=kind, name=xls_name, outer=outer["_xls"], count=len(inner), questions=", ".join(inner) or "-"
                ),
            )
            return
        loop = self.loop_source(node, outer)
        if loop is None:
            self.dropped.update(inner)
            return
        label = self.labels(node.get("label"))
        section = self.new_section(xls_name, label, outer)
        section["_xls"] = xls_name
        section["loop"] = loop
        if label:
            loop["label"] = _label_value(dict(label))
        relevant = (node.get("bind") or {}).get("relevant")
        if relevant:
            section.setdefault("_relevant", []).append((str(relevant), xls_name))
        self.unsupported_attributes(node, {"relevant"}, {"jr:count"})
        for child in node.get("children", []):
            self.element(child, section, list(relevants))
        if outer is not None:
            self.continued[id(outer)] = self.new_section(f"{outer['name']}_cont", outer.get("label") or {}, outer)

    def loop_helper(self, node: dict[str, Any], section: dict[str, Any]) -> bool:
        """Calculates that only serve a loop: pyxform's generated repeat count, ODK's loop-and-merge item/label.

        `selected-at(${m}, position(..) - 1)` is the item of a loop over m (our item()); `jr:choice-name(that,
        '${m}')` its label (our `${loop}` pipe). They are not questions here.
        """
        name = str(node.get("name"))
        calculation = " ".join(str((node.get("bind") or {}).get("calculate") or "").split())
        if name in self.generated:
            self.calculations[name] = calculation
            self.types[name] = "calculate"
            return True
        over = (section.get("loop") or {}).get("over")
        if over is None:
            return False
        source = re.escape("${" + self._xls(over) + "}")
        selected_at = rf"selected-at\(\s*{source}\s*,\s*position\(\s*\.\.\s*\)\s*-\s*1\s*\)"
        item_refs = "|".join(re.escape("${" + i + "}") for i in self.items) or "(?!)"
        if re.fullmatch(selected_at, calculation):
            self.items.add(name)
        elif re.fullmatch(rf"jr:choice-name\(\s*(?:{selected_at}|{item_refs})\s*,\s*'{source}'\s*\)", calculation):
            self.item_labels[name] = section["name"]
        else:
            return False
        self.dropped.discard(name)
        return True

    def loop_source(self, node: dict[str, Any], outer: dict[str, Any] | None) -> dict[str, Any] | None:
        """What a repeat loops over: `loop:` of our format, or None (said why) when nothing here matches."""
        xls_name = str(node.get("name") or "")
        if node.get("type") == "loop":  # pyxform's `begin loop over <list>`: one group per choice of the list
            columns = node.get("columns") or []
            return {
                "choices": [
                    {"code": i + 1, "name": str(c.get("name")), "label": _label_value(self.labels(c.get("label")))}
                    for i, c in enumerate(columns)
                ]
            }
        count = str((node.get("control") or {}).get("jr:count") or "").strip()
        if not count:
            name = _safe_name(f"{xls_name}_count", self.taken_names())
            self.renames[name] = name
            target = self.follow(outer) if outer is not None else None
            if target is None or target.get("loop") is not None:
                target = self.new_section(f"{xls_name}_how_many", {}, outer)
            label = self.labels(node.get("label")) or {"*": xls_name}
            question = {
                "name": name,
                "type": "numeric",
                "label": {lang: f"How many: {text}?" for lang, text in label.items()},
                "min": 0,
                "max": DEFAULT_LOOP_MAX,
            }
            target["questions"].append(question)
            self.rows.setdefault(name, self.rows.get(xls_name, 0))
            self.problem(
                xls_name,
                _(
                    "repeat '{repeat}' has no repeat_count (ODK asks 'add another?' after each one); it became a "
                    "loop counted by the new question '{name}' (0 to {most}) asked just before it"
                ).format(repeat=xls_name, name=name, most=DEFAULT_LOOP_MAX),
            )
            return {"count": name}
        if match := re.fullmatch(r"\$\{([^}]+)\}", count):
            source = match.group(1)
            calculation = str(self.calculations.get(source) or "").strip()
            if self.types.get(source) == "calculate" and calculation:
                count = calculation  # pyxform moves any repeat_count but a plain ${q} into a calculate
        if match := re.fullmatch(r"\$\{([^}]+)\}", count):
            source = match.group(1)
            if self.types.get(source) == "numeric":
                return {"count": self.renames[source]}
            if source in self.types:
                what = _("a {type} question").format(type=self.types[source])
            else:
                what = _("not an imported question")
            self.problem(
                xls_name,
                _(
                    "repeat '{repeat}' counts by '{source}', which is {what}; survey-tui counts loops by a number "
                    "question asked before them, so the repeat is left out"
                ).format(repeat=xls_name, source=source, what=what),
            )
            return None
        if match := re.fullmatch(r"count-selected\(\s*\$\{([^}]+)\}\s*\)", count):
            source = match.group(1)
            if self.types.get(source) == "multi":
                return {"over": self.renames[source]}
        if re.fullmatch(r"\d+", count) and 1 <= int(count) <= MAX_ITERATIONS:
            return {"choices": [{"code": i, "label": str(i)} for i in range(1, int(count) + 1)]}
        self.problem(
            xls_name,
            _(
                "repeat '{repeat}' has the repeat_count '{count}', which is not a number question, a number or "
                "count-selected() of a select_multiple asked before it; the repeat is left out"
            ).format(repeat=xls_name, count=count),
        )
        return None

    def finish_loops(self) -> None:
        """A count loop needs a largest count: the counting question gets one if the form gave none."""
        for section in self.sections:
            loop = section.get("loop") or {}
            count = loop.get("count")
            if count is None or count not in self.qdicts:
                continue
            question = self.qdicts[count]
            if question.get("max") is None:
                question["max"] = DEFAULT_LOOP_MAX
                self.problem(
                    self._xls(count),
                    _(
                        "'{count}' counts the loop '{loop}' and has no largest value; it now accepts at most "
                        "{most} (survey-tui loops need a limit)"
                    ).format(count=count, loop=section["name"], most=DEFAULT_LOOP_MAX),
                )
            elif question["max"] > MAX_ITERATIONS:
                loop["max"] = MAX_ITERATIONS
                self.problem(
                    self._xls(count),
                    _("'{count}' counts the loop '{loop}': only {most} iterations are asked").format(
                        count=count, loop=section["name"], most=MAX_ITERATIONS
                    ),
                )

    def section(self, group: dict[str, Any]) -> dict[str, Any]:
        section = self.new_section(str(group.get("name") or "section"), self.labels(group.get("label")))
        relevant = (group.get("bind") or {}).get("relevant")
        if relevant:
            section["_relevant"] = [(relevant, str(group.get("name")))]
        self.unsupported_attributes(group, {"relevant"})
        for child in group.get("children", []):
            self.element(child, self.follow(section), [])
        return section

    def element(self, node: dict[str, Any], section: dict[str, Any], relevants: list[str]) -> None:
        kind = str(node.get("type") or "")
        name = str(node.get("name") or "")
        bind = node.get("bind") or {}
        if kind in ("repeat", "loop"):
            self.loop_section(node, section, relevants)
            return
        if _is_header_row(node):
            self.dropped.add(name)
            if not name.startswith(GENERATED_HEADER):
                self.problem(
                    name,
                    _("'{name}' is a table's header row (appearance 'label'), not a question; left out").format(
                        name=name
                    ),
                )
            return
        if kind == "group":
            grid = self.grid_of(node)
            if grid:
                self.add_grid(node, section, relevants)
                return
            inner_rel = list(relevants)
            if bind.get("relevant"):
                inner_rel.append(str(bind["relevant"]))
            self.unsupported_attributes(node, {"relevant"})
            for child in node.get("children", []):
                self.element(child, self.follow(section), inner_rel)
            return
        if kind == "calculate" and self.loop_helper(node, section):
            return
        question = self.question(node, kind, name)
        if question is None:
            return
        rels = list(relevants)
        if bind.get("relevant"):
            rels.append(str(bind["relevant"]))
        if section.get("loop") is not None:  # pyxform's loop over a list names the item `%(label)s`
            labels = [n for n, loop in self.item_labels.items() if loop == section["name"]]
            _pipe_item(question, "${" + section["name"] + "}", labels)
        self.pending.append((question, {**bind, "_relevants": rels}, name))
        section["questions"].append(question)
        self.qdicts[question["name"]] = question
        if section.get("loop") is not None:
            self.loop_of[question["name"]] = section
            section.setdefault("_names", {})[name] = question["name"]  # inside the loop ${name} is this one

    def grid_of(self, group: dict[str, Any]) -> bool:
        appearance = str((group.get("control") or {}).get("appearance") or "")
        children = _grid_rows(group)
        generated = any(_is_header_row(c) for c in group.get("children") or [])
        return (
            ("table-list" in appearance or ("field-list" in appearance and generated))
            and len(children) >= 2
            and all(c.get("type") == "select one" for c in children)
            and len({c.get("list_name") or c.get("itemset") for c in children}) == 1
            # a grid's rows are asked together: a row with its own relevant stays a question of its own
            and not any((c.get("bind") or {}).get("relevant") for c in children)
        )

    def add_grid(self, group: dict[str, Any], section: dict[str, Any], relevants: list[str]) -> None:
        xls_name = str(group.get("name"))
        name = _safe_name(xls_name, {q["name"] for s in self.sections for q in s["questions"]})
        children = _grid_rows(group)
        list_name = self.choice_list(children[0])
        items = []
        for child in children:
            child_name = self.renames.get(str(child.get("name")), str(child.get("name")))
            item = child_name[len(name) + 1 :] if child_name.startswith(name + "_") else child_name
            items.append({"name": item, "label": _label_value(self.labels(child.get("label")) or {"*": item})})
            # references to a row of the grid keep working: grid_item is the row's variable
            self.renames[str(child.get("name"))] = f"{name}_{item}"
            self.codes[f"{name}_{item}"] = self.list_codes[list_name]
            self.unsupported_attributes(child, {"required"})
        header = next(
            (c for c in group.get("children") or [] if str(c.get("name", "")).startswith("generated_table_list_label")),
            {},
        )  # pyxform moves a table-list group's label and hint to a generated note
        question: dict[str, Any] = {
            "name": name,
            "type": "grid",
            "label": _label_value(self.labels(group.get("label") or header.get("label")) or {"*": name}),
            "choices": list_name,
            "items": items,
        }
        hint = self.labels(group.get("hint") or header.get("hint"))
        if hint:
            question["hint"] = _label_value(hint)
        if any(_truthy((c.get("bind") or {}).get("required")) for c in children):
            question["required"] = True
        bind = dict(group.get("bind") or {})
        rels = list(relevants) + ([str(bind["relevant"])] if bind.get("relevant") else [])
        self.rows.setdefault(xls_name, self.rows.get(str(children[0].get("name")), 0) - 1)
        self.pending.append((question, {"_relevants": rels}, xls_name))
        section["questions"].append(question)

    def labels(self, value: Any) -> dict[str, str]:
        for raw in value if isinstance(value, dict) else ():
            if raw != "default" and language_tag(str(raw)) is None and raw not in self.unknown_languages:
                self.unknown_languages.add(raw)
                self.problem(
                    f"::{raw}",
                    _(
                        "the language column '::{tag}' names no language survey-tui knows; kept as the tag '{tag}'"
                    ).format(tag=raw),
                )
        labels = _labels(value, self.default_tag)
        for lang in labels:
            if lang != "*" and lang not in self.languages:
                self.languages.append(lang)
        return labels

    def choice_list(self, node: dict[str, Any]) -> str:
        xls_list = str(node.get("list_name") or node.get("itemset") or node.get("name"))
        name = _safe_name(xls_list, set())
        if name in self.lists:
            return name
        choices = node.get("choices") or self.form_choices.get(xls_list) or []
        names = [str(c.get("name")) for c in choices]
        numeric = all(re.fullmatch(r"-?\d{1,9}", n) for n in names) and len(set(map(int, names or ["0"]))) == len(names)
        codes: dict[str, int] = {}
        out = []
        for index, choice in enumerate(choices):
            cname = str(choice.get("name"))
            code = int(cname) if numeric else index + 1
            first = codes.setdefault(cname, code)
            if first != code:  # the same name twice (a county in two states): both store that name in ODK
                same = self.same.setdefault(name, {})
                same[first] = (*same.get(first, (first,)), code)
            entry: dict[str, Any] = {"code": code}
            if not numeric:
                entry["name"] = cname
            entry["label"] = _label_value(self.labels(choice.get("label")) or {"*": cname})
            out.append(entry)
        self.lists[name] = out
        self.list_codes[name] = codes
        return name

    def question(self, node: dict[str, Any], kind: str, name: str) -> dict[str, Any] | None:
        if kind in METADATA or kind in UNSUPPORTED_TYPES or kind not in _TYPE_MAP:
            self.dropped.add(name)
        if kind in METADATA:
            self.problem(
                name, _("'{kind}' metadata is not a question here: {why}").format(kind=kind, why=_(METADATA[kind]))
            )
            return None
        if kind in UNSUPPORTED_TYPES or kind not in _TYPE_MAP:
            if kind in UNSUPPORTED_TYPES:
                what = _(UNSUPPORTED_TYPES[kind])
            else:
                what = _("question type '{kind}'").format(kind=kind)
            self.problem(name, _("{what} is not supported; question '{name}' left out").format(what=what, name=name))
            return None
        our_type = _TYPE_MAP[kind]
        control = node.get("control") or {}
        appearance = str(control.get("appearance") or "")
        if our_type == "single" and "likert" in appearance:
            our_type = "scale"
        q: dict[str, Any] = {"name": self.node_names.get(id(node), self.renames.get(name, name)), "type": our_type}
        self.types[name] = our_type
        self.calculations[name] = (node.get("bind") or {}).get("calculate")
        label = self.labels(node.get("label"))
        if label:
            q["label"] = _label_value(label)
        elif our_type not in ("note", "calculate"):
            q["label"] = name
            self.problem(name, _("question '{name}' has no label; its name is used as the label").format(name=name))
        elif our_type == "note":
            q["label"] = name
        hint = self.labels(node.get("hint"))
        if hint:
            q["hint"] = _label_value(hint)
        if our_type in ("single", "scale", "multi"):
            itemset = str(node.get("itemset") or "")
            if re.search(r"\.(csv|xml|geojson)$", itemset, re.IGNORECASE):
                self.dropped.add(name)
                widget = "select_one_from_file" if our_type != "multi" else "select_multiple_from_file"
                self.problem(
                    name,
                    _(
                        "{widget} '{itemset}' takes its choices from a file survey-tui does not read; "
                        "question '{name}' left out"
                    ).format(widget=widget, itemset=itemset, name=name),
                )
                return None
            list_name = self.choice_list(node)
            if not self.lists[list_name]:
                self.dropped.add(name)
                self.problem(
                    name,
                    _("choice list '{list}' has no choices; question '{name}' left out").format(
                        list=list_name, name=name
                    ),
                )
                return None
            q["choices"] = list_name
            self.codes[q["name"]] = self.list_codes[list_name]
            if list_name in self.same:
                self.same_codes[q["name"]] = self.same[list_name]
            if our_type == "multi":
                self.multis.add(q["name"])
        if kind == "decimal":
            q["decimals"] = DECIMAL_PLACES
        if kind == "phone number":
            self.problem(
                name,
                _(
                    "a phone number question: ODK accepts only digits, spaces and + - ( ) there (a pattern survey-tui "
                    "cannot check); imported as text"
                ),
            )
        if _truthy((node.get("parameters") or {}).get("randomize")):
            q["randomize"] = True
        if kind == "range":
            params = node.get("parameters") or {}
            for ours, theirs in (("min", "start"), ("max", "end")):
                if params.get(theirs) not in (None, ""):
                    q[ours] = float(params[theirs])
            step = str(params.get("step") or "1")
            if "." in step:
                q["decimals"] = len(step.split(".")[1])
        bind = node.get("bind") or {}
        required = bind.get("required")
        if _truthy(required):
            q["required"] = True
        elif required not in (None, "", "no", "false", "false()", "FALSE", "No"):
            self.problem(
                name,
                _("required '{required}' (a condition) is not supported; the question is optional").format(
                    required=required
                ),
            )
        if node.get("choice_filter") and "choices" in q:
            q["_choice_filter"] = (str(node["choice_filter"]), str(node.get("list_name") or node.get("itemset")))
        if control.get("jr:count") or kind.endswith("or_other"):
            pass
        self.unsupported_attributes(node, {"relevant", "constraint", "required", "calculate", "jr:constraintMsg"})
        return q

    def unsupported_attributes(
        self, node: dict[str, Any], handled: set[str], control_handled: frozenset[str] | set[str] = frozenset()
    ) -> None:
        name = str(node.get("name") or "")
        ignored = []
        bind = node.get("bind") or {}
        for key, value in bind.items():
            if key not in handled and key not in ("jr:requiredMsg",) and value not in (None, "", "false", "false()"):
                ignored.append(f"{key} '{value}'")
        if bind.get("jr:requiredMsg"):
            ignored.append(_("required message"))
        control = node.get("control") or {}
        for key, value in control.items():
            if key in control_handled:
                continue
            if key == "appearance" and any(
                a in str(value) for a in ("likert", "table-list", "field-list", "minimal", "list-nolabel", "label")
            ):
                continue
            ignored.append(f"{key} '{value}'")
        for key in ("default", "media", "trigger", "parameters"):
            value = node.get(key)
            if key == "parameters" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "randomize"} if node.get("type") != "range" else {}
            if value:
                ignored.append(key if key == "media" else f"{key} '{value}'")
        if ignored:
            self.problem(name, _("ignored (no equivalent in survey-tui): {what}").format(what=", ".join(ignored)))

    # -- logic -----------------------------------------------------------------------------------
    def ctx(self, self_name: str | None) -> _Context:
        loop = (self.loop_of.get(self_name or "") or {}).get("loop") or {}
        kind = next((k for k in ("over", "count", "choices") if k in loop), None)
        renames = {**self.renames, **(self.loop_of.get(self_name or "") or {}).get("_names", {})}
        codes = dict(self.codes)
        if kind == "over":
            codes["item()"] = self.codes.get(loop["over"], {})
        return _Context(renames, codes, self_name, self.dropped, self.multis, kind, self.same_codes, set(self.items))

    def translate(self, text: str, xls_name: str, field_name: str, self_name: str | None) -> str | None:
        ctx = self.ctx(self_name)
        try:
            translated = translate_expression(str(text), ctx)
            for note in ctx.notes:
                self.problem(
                    xls_name,
                    _("{column} '{text}' imported with a change: {note}").format(
                        column=field_name, text=text, note=note
                    ),
                )
            return translated
        except Unsupported as exc:
            self.problem(
                xls_name,
                _("{column} '{text}' uses {what}, which survey-tui does not support; left out").format(
                    column=field_name, text=text, what=exc
                ),
            )
            return None

    def translate_logic(self) -> None:
        for section in self.sections:
            parts = [self.translate(text, where, "relevant", None) for text, where in section.pop("_relevant", [])]
            parts = [p for p in parts if p]
            if parts:
                section["relevant"] = " and ".join(f"({p})" if len(parts) > 1 else p for p in parts)
            section.pop("_xls", None)
        for question, bind, xls_name in self.pending:
            name = question["name"]
            parts = [self.translate(r, xls_name, "relevant", name) for r in bind.get("_relevants", [])]
            parts = [p for p in parts if p]
            if parts:
                question["relevant"] = " and ".join(f"({p})" if len(parts) > 1 else p for p in parts)
            constraint = bind.get("constraint")
            message = self.labels(bind.get("jr:constraintMsg"))
            if constraint and question["type"] == "numeric" and not message:
                # min/max speak with survey-tui's own messages; a form's own message keeps the constraint
                constraint = _peel_range(str(constraint), question)
            if constraint and question["type"] == "multi":
                peeled = re.match(
                    r"^\s*count-selected\(\s*\.\s*\)\s*<=\s*(\d+)\s*(?:and\s+\((?P<rest>.*)\))?\s*$", str(constraint)
                )
                if peeled:
                    question["max_selected"] = int(peeled.group(1))
                    constraint = peeled.group("rest") or ""
            if constraint:
                translated = self.translate(constraint, xls_name, "constraint", name)
                if translated:
                    question["constraint"] = translated
                    if message:
                        question["constraint_message"] = _label_value(message)
            if "_choice_filter" in question:
                text, xls_list = question.pop("_choice_filter")
                translated = self.choice_filter(text, xls_list, question, xls_name)
                if translated:
                    question["choice_filter"] = translated
            calculate = bind.get("calculate")
            if question["type"] == "calculate":
                translated = self.translate(calculate, xls_name, "calculation", name) if calculate else None
                if translated:
                    question["calculate"] = translated
                else:
                    question["_drop"] = True
            elif calculate:
                self.problem(
                    xls_name,
                    _("a default calculation '{calculate}' on a {type} question is ignored").format(
                        calculate=calculate, type=question["type"]
                    ),
                )
        for section in self.sections:
            section.pop("_names", None)
            dropped = [q for q in section["questions"] if q.pop("_drop", False)]
            for q in dropped:
                section["questions"].remove(q)
                self.problem(
                    q["name"], _("calculate '{name}' has no usable calculation; left out").format(name=q["name"])
                )

    def choice_filter(self, text: str, xls_list: str, question: dict[str, Any], xls_name: str) -> str | None:
        """XLSForm's choice_filter (evaluated per choice, its columns by bare name) as ours ('.' = the code).

        Each choice's columns are put in as literals, giving a condition on earlier answers per choice; choices
        with the same condition are grouped: `(. in (3, 4) and state = 2) or (...)`.
        """
        rows = self.form_choices.get(xls_list) or []
        codes = self.lists.get(question["choices"], [])
        if len(rows) != len(codes):
            self.problem(
                xls_name,
                _("choice_filter '{text}': the list '{list}' could not be matched; every choice is shown").format(
                    text=text, list=xls_list
                ),
            )
            return None
        groups: dict[str, list[int]] = {}
        try:
            for row, entry in zip(rows, codes, strict=True):
                columns = {str(k): v for k, v in row.items() if k not in ("label", "media") and not isinstance(v, dict)}
                condition = translate_expression(_with_columns(text, columns), self.ctx(question["name"]))
                groups.setdefault(condition, []).append(entry["code"])
        except Unsupported as exc:
            self.problem(
                xls_name,
                _(
                    "choice_filter '{text}' uses {what}, which survey-tui does not support; every choice is shown"
                ).format(text=text, what=exc),
            )
            return None
        parts = []
        for condition, members in groups.items():
            expr = parse_expression(condition)
            if not expr.names and not expr.uses_self:  # the same for every interview: `'yes' = 'yes'`
                if not expr.evaluate_bool(DictScope({})):
                    continue
                condition = ""
            inside = f". = {members[0]}" if len(members) == 1 else f". in ({', '.join(map(str, members))})"
            parts.append(f"{inside} and ({condition})" if condition else inside)
        if len(parts) == 1 and len(groups) == 1 and parts[0].startswith(". in") and "and" not in parts[0]:
            return None  # every choice, always: no filter at all
        if not parts:
            return "false"
        return canonical(" or ".join(f"({p})" for p in parts))

    def settle(self, data: dict[str, Any]) -> None:
        """Drop logic that does not hold in our model (references to later questions, ...), saying so."""
        for _attempt in range(200):
            try:
                instrument = Instrument.model_validate(data)
            except Exception as exc:  # noqa: BLE001 - pydantic's error, reported whole
                raise LoadError(
                    self.problems
                    + [Problem(self.file, _("the imported instrument is invalid: {error}").format(error=exc))]
                ) from exc
            findings = [f for f in compile_instrument(instrument) if f.severity == "error"]
            if not findings:
                return
            changed = False
            for f in findings:
                path = f.path
                in_question = len(path) >= 5 and path[0] == "sections" and path[2] == "questions"
                key = path[4] if in_question else None
                if in_question and key in ("relevant", "constraint", "calculate"):
                    q = data["sections"][path[1]]["questions"][path[3]]
                    if key not in q:
                        continue
                    self.problem(
                        self._xls(q["name"]),
                        _("{column} '{text}' left out: {why}").format(column=key, text=q[key], why=f.message),
                    )
                    q.pop(key)
                    if key == "constraint":
                        q.pop("constraint_message", None)
                    if key == "calculate":
                        data["sections"][path[1]]["questions"].remove(q)
                    changed = True
                    break
                if in_question and f.name:  # a label piping a question not imported, or asked later
                    q = data["sections"][path[1]]["questions"][path[3]]
                    missing = f.name
                    self.problem(
                        self._xls(q["name"]),
                        _("the label pipes '{name}', which is not imported: shown as [{name}]").format(name=missing),
                    )
                    _unpipe(q, missing)
                    changed = True
                    break
                if len(path) >= 3 and path[0] == "sections" and path[2] == "relevant":
                    section = data["sections"][path[1]]
                    self.problem(
                        section["name"],
                        _("group relevant '{text}' left out: {why}").format(
                            text=section.pop("relevant"), why=f.message
                        ),
                    )
                    changed = True
                    break
            if not changed:
                raise LoadError(
                    self.problems + [Problem(self.file, f.message, where=f.where, hint=f.hint) for f in findings]
                )

    def _xls(self, name: str) -> str:
        return next((k for k, v in self.renames.items() if v == name), name)


_RANGE = re.compile(
    r"^\s*(?:\.\s*>=\s*(?P<min>-?\d+(?:\.\d+)?))?\s*(?:(?<=\d)\s+and\s+)?"
    r"(?:\.\s*<=\s*(?P<max>-?\d+(?:\.\d+)?))?\s*(?:and\s+\((?P<rest>.*)\))?\s*$"
)


def _peel_range(constraint: str, question: dict[str, Any]) -> str:
    """`. >= 0 and . <= 120 and (rest)` (how numeric ranges are exported) -> min/max and the rest."""
    match = _RANGE.match(constraint)
    if not match or (match.group("min") is None and match.group("max") is None):
        return constraint
    for key in ("min", "max"):
        if match.group(key) is not None:
            value = float(match.group(key))
            question[key] = int(value) if value.is_integer() else value
    return match.group("rest") or ""


def _with_columns(text: str, columns: dict[str, Any]) -> str:
    """A choice_filter with one choice's columns (`cf`, `name`) written in as literals."""
    out = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:
            break
        pos = match.end()
        word = match.group("word")
        after = text[match.end() :].lstrip()
        if word is not None and word in columns and not after.startswith("("):
            value = "" if columns[word] is None else str(columns[word])
            out.append(value if re.fullmatch(r"-?\d+(?:\.\d+)?", value) else "'" + value.replace("'", "") + "'")
        else:
            out.append(match.group(0))
    return "".join(out) + text[pos:]


def _pipe_item(question: dict[str, Any], pipe: str, names: list[str]) -> None:
    """pyxform's `%(label)s` and ODK's item-label calculates (`${brand_label}`) as our pipe of the loop's item."""

    def fix(text: str) -> str:
        text = text.replace("%(label)s", pipe)
        for name in names:
            text = text.replace("${" + name + "}", pipe)
        return text

    for key in ("label", "hint"):
        value = question.get(key)
        if isinstance(value, str):
            question[key] = fix(value)
        elif isinstance(value, dict):
            question[key] = {k: fix(str(v)) for k, v in value.items()}


def _unpipe(question: dict[str, Any], name: str) -> None:
    """Replace `${name}` in every text of a question by plain `[name]`."""
    pattern = re.compile(r"\$?\{" + re.escape(name) + r"\}")

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(f"[{name}]", value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    for key in ("label", "hint", "constraint_message", "choices", "items"):
        if key in question:
            question[key] = fix(question[key])


GENERATED_HEADER = "reserved_name_for_field_list_labels"


def _is_header_row(node: dict[str, Any]) -> bool:
    """A select with appearance `label`: a table's header (the choices as column heads), not a question.

    pyxform writes one itself (`reserved_name_for_field_list_labels_N`) for a `table-list` group.
    """
    appearance = str((node.get("control") or {}).get("appearance") or "").split()
    return str(node.get("type", "")).startswith("select") and "label" in appearance


def _grid_rows(group: dict[str, Any]) -> list[dict[str, Any]]:
    """A table-list group's rows, without its header rows (generated by pyxform or written by hand)."""
    return [
        c
        for c in group.get("children") or []
        if not str(c.get("name", "")).startswith("generated_table_list_label") and not _is_header_row(c)
    ]


def _label_value(labels: dict[str, str]) -> Any:
    return labels["*"] if set(labels) == {"*"} else labels


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("yes", "true", "true()", "1")


def _is_meta(node: dict[str, Any]) -> bool:
    """pyxform's own `meta` block (instanceID, entities): generated, not part of the questionnaire."""
    return (
        node.get("type") == "group"
        and node.get("name") == "meta"
        and (
            bool((node.get("control") or {}).get("bodyless"))
            or all(c.get("type") in ("calculate", "entity") for c in node.get("children", []))
        )
    )


def _walk(children: list[dict[str, Any]], into_repeats: bool = True) -> list[dict[str, Any]]:
    out = []
    for child in children:
        out.append(child)
        if child.get("children") and (into_repeats or child.get("type") not in ("repeat", "loop")):
            out.extend(_walk(child["children"], into_repeats))
    return out


_TYPE_MAP = {
    "select one": "single",
    "select all that apply": "multi",
    "integer": "numeric",
    "int": "numeric",
    "decimal": "numeric",
    "range": "numeric",
    "text": "text",
    "string": "text",
    "phone number": "text",
    "date": "date",
    "note": "note",
    "calculate": "calculate",
}


def import_xlsform(path: Path) -> ImportResult:
    """Read an XLSForm and build an instrument; raises LoadError only when nothing usable comes out."""
    path = Path(path)
    if not path.is_file():
        raise LoadError([Problem(str(path), _("no such file"))])
    result = _Importer(path).run()
    text = result.yaml_text()
    instrument, problems = load_instrument_text(text, f"{result.instrument_id}.yaml")
    if instrument is None:
        raise LoadError(result.problems + problems)
    return result


# ---------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------


def _named(ins: Instrument, name: str) -> Question | None:
    """A question by the name expressions use: a loop's question as written ('fam') is its first iteration."""
    if ins.has_question(name):
        return ins.question(name)
    copies = ins.iterations(name)
    return copies[0] if copies else None


def _choice_value(question: Node, code: Node, ins: Instrument, me: Question | None = None) -> str | None:
    """A code compared with (or selected in) a question as XLSForm stores it: the choice's name, quoted."""
    if not isinstance(code, Literal):
        return None
    q = me if isinstance(question, SelfRef) else _named(ins, question.name) if isinstance(question, Name) else None
    if q is None:
        return None
    if not q.choice_options or isinstance(code.value, bool) or not isinstance(code.value, int | float | str):
        return None
    for c in q.choice_options:
        if str(c.code) == str(code.value) or (isinstance(code.value, float) and code.value == c.code):
            return "'" + (c.name or str(c.code)) + "'"
    return None


#: the loop whose questions are being written (their item(), iteration() and other iterations)
_LOOP: contextvars.ContextVar[LoopPlan | None] = contextvars.ContextVar("xlsform_loop", default=None)


def _loop_names(plan: LoopPlan, ins: Instrument) -> dict[int, str]:
    """A loop's item codes -> the choice names XLSForm stores for them."""
    if plan.kind == "over" and plan.source:
        return {c.code: c.name or str(c.code) for c in ins.question(plan.source).choice_options}
    section = next(s for s in ins.sections if s.name == plan.name)
    listed = section.loop.choices if section.loop else None
    options = ins.choice_lists.get(listed, []) if isinstance(listed, str) else listed or []
    return {c.code: c.name or str(c.code) for c in options} or {k: str(k) for k in plan.keys}


def _position(plan: LoopPlan, key: Node, ins: Instrument, me: Question | None) -> str:
    """Which repeat instance an iteration is in ODK (count loops: the key; fixed lists: its place)."""
    if plan.kind == "count":
        return _xls_expr(key, ins, me)
    if plan.kind == "choices" and isinstance(key, Literal) and key.value in plan.keys:
        return str(plan.keys.index(key.value) + 1)  # type: ignore[arg-type]
    raise Unsupported(
        _("naming one iteration of the loop '{loop}' over the ticked choices of '{source}'").format(
            loop=plan.name, source=plan.source
        )
    )


def _piped(labels: dict[str, str] | None, pipes: dict[str, str]) -> dict[str, str] | None:
    """Labels with our pipes as XLSForm's: `${loop}` (the item) becomes `${loop_label}`, `{q}` `${q}`."""
    if labels is None:
        return None

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return "${" + pipes.get(name, name) + "}"

    return {lang: PIPE_PATTERN.sub(one, text) for lang, text in labels.items()}


def _same_names(other: Node, me: Question, ins: Instrument) -> None:
    """`selected(${q}, name)` in a choice_filter holds only if q names each code as this list does."""
    q = _named(ins, other.name) if isinstance(other, Name) else None
    theirs = {c.code: c.name or str(c.code) for c in q.choice_options} if q else {}
    mine = {c.code: c.name or str(c.code) for c in me.choice_options}
    if any(theirs.get(code, name) != name for code, name in mine.items()):
        raise Unsupported(
            _("choices of '{question}' named differently from those of '{other}'").format(
                question=me.name, other=_ours(other)
            )
        )


def _xls_expr(node: Node, ins: Instrument, me: Question | None = None) -> str:
    """Our expression tree as XPath the way XLSForm writes it (choice codes back to the form's names)."""
    match node:
        case Literal(value=value):
            if value is None:
                return "''"
            if isinstance(value, bool):
                return "true()" if value else "false()"
            if isinstance(value, str):
                return "'" + value.replace("'", "’") + "'"
            return f"{value:g}" if isinstance(value, float) else str(value)
        case Name(name=name):
            found = ins.question(name) if ins.has_question(name) else None
            if found is not None and found.slot is not None:  # one iteration named from elsewhere
                plan = ins.loops[found.slot.loop]
                where = _position(plan, Literal(found.slot.key, 0), ins, me)
                return f"indexed-repeat(${{{found.slot.template}}}, ${{{plan.name}}}, {where})"
            return "${" + name + "}"
        case SelfRef():
            return "name" if me is not None else "."  # in a choice_filter: the choice's own name
        case Unary(operand=operand):
            return f"-{_xls_expr(operand, ins, me)}"
        case Not(operand=operand):
            return f"not({_xls_expr(operand, ins, me)})"
        case Binary(op=op, left=left, right=right):
            xop = {"/": "div", "%": "mod"}.get(op, op)
            return f"({_xls_expr(left, ins, me)} {xop} {_xls_expr(right, ins, me)})"
        case Compare(op=op, left=left, right=right):
            loop = _LOOP.get()
            for one, other in ((left, right), (right, left)):
                if loop is not None and isinstance(one, Call) and one.function == "item" and isinstance(other, Literal):
                    names = _loop_names(loop, ins)
                    if loop.kind != "count" and op in ("=", "!=") and other.value in names:
                        return f"${{{loop.name}_item}} {op} '{names[other.value]}'"  # type: ignore[index]
                found = _named(ins, one.name) if isinstance(one, Name) else None
                if found is not None and found.type == "multi":
                    raise Unsupported(
                        _("comparing the multi question '{question}' with '{op}'").format(question=one.name, op=op)
                    )
                if op in ("=", "!=") and (value := _choice_value(one, other, ins, me)) is not None:
                    return f"{_xls_expr(one, ins, me)} {op} {value}"
            return f"{_xls_expr(left, ins, me)} {op} {_xls_expr(right, ins, me)}"
        case Logical(op=op, left=left, right=right):
            return f"({_xls_expr(left, ins, me)} {op} {_xls_expr(right, ins, me)})"
        case Membership(operand=operand, items=items, negated=negated):
            body = " or ".join(_xls_expr(Compare("=", operand, item, 0), ins, me) for item in items)
            return f"not({body})" if negated else f"({body})"
        case Call(function=function, args=args):
            if function == "selected":
                name = _xls_expr(args[0], ins, me)
                if me is not None and isinstance(args[1], SelfRef):
                    _same_names(args[0], me, ins)
                value = _choice_value(args[0], args[1], ins, me)
                if value is None:
                    value = (
                        f"'{_xls_expr(args[1], ins, me)}'"
                        if isinstance(args[1], Literal)
                        else _xls_expr(args[1], ins, me)
                    )
                return f"selected({name}, {value})"
            xargs = [_xls_expr(a, ins, me) for a in args]
            if function == "count_selected":
                return f"count-selected({xargs[0]})"
            if function == "answered":
                return f"{xargs[0]} != ''"
            if function in ("dont_know", "refused"):
                raise Unsupported(
                    _("{function}() (XLSForm has no don't know / refused codes)").format(function=function)
                )
            if function == "length":
                return f"string-length({xargs[0]})"
            if function in ("item", "iteration", "indexed"):
                loop = _LOOP.get()
                if loop is None:
                    raise Unsupported(
                        _("{function}() outside a loop").format(function=function)
                    )  # pragma: no cover - the loader refuses it
                if function == "item":
                    if loop.kind == "count":
                        return "position(..)"
                    raise Unsupported(
                        _("item() of the loop '{loop}' other than compared with a code").format(loop=loop.name)
                    )
                if function == "iteration":
                    if loop.kind == "over":
                        raise Unsupported(
                            _("iteration() of the loop '{loop}' over ticked choices").format(loop=loop.name)
                        )
                    return "position(..)"
                target = args[0].name  # type: ignore[union-attr]
                return f"indexed-repeat(${{{target}}}, ${{{loop.name}}}, {_position(loop, args[1], ins, me)})"
            return f"{function}({', '.join(xargs)})"
    raise Unsupported(f"expression node {node!r}")  # pragma: no cover - every node kind is handled above


def to_xlsform_expression(text: str, ins: Instrument, me: Question | None = None) -> str:
    """Ours as XLSForm's; `me` makes `.` the choice of a choice_filter (its `name`)."""
    return _xls_expr(parse_expression(text).root, ins, me)


def xlsform_language(tag: str) -> str:
    """A language column suffix XLSForm-style: the English name (CLDR, via Babel) and the code in brackets."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(tag.split("-")[0]).get_language_name("en") or tag
    except (ValueError, UnknownLocaleError):
        name = tag
    return f"{name} ({tag})"


def xlsform_sheets(ins: Instrument) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]], list[str]]:
    """(survey rows, choices rows, settings rows, notes on what XLSForm cannot carry); first rows are headers."""
    langs = list(ins.languages)
    names = {lang: xlsform_language(lang) for lang in langs}
    notes: list[str] = []
    survey_header = (
        ["type", "name"]
        + [f"label::{names[lang]}" for lang in langs]
        + [f"hint::{names[lang]}" for lang in langs]
        + ["required", "relevant", "constraint"]
        + [f"constraint_message::{names[lang]}" for lang in langs]
        + ["calculation", "choice_filter", "appearance", "parameters", "repeat_count"]
    )
    survey: list[list[Any]] = [survey_header]
    choices: list[list[Any]] = [["list_name", "name"] + [f"label::{names[lang]}" for lang in langs]]
    written_lists: set[str] = set()

    def labels(value: dict[str, str] | None) -> list[str]:
        """Each language's own text; a language without one stays empty (no other language's text copied)."""
        return [(value.get(lang) or value.get("*") or "") if value else "" for lang in langs]

    def row(**cells: Any) -> list[Any]:
        out = []
        for column in survey_header:
            out.append(cells.get(column, ""))
        return out

    def label_cells(prefix: str, value: dict[str, str] | None) -> dict[str, str]:
        return {f"{prefix}::{names[lang]}": text for lang, text in zip(langs, labels(value), strict=True)}

    def expr(text: str | None, where: str, me: Question | None = None) -> str:
        if not text:
            return ""
        try:
            return to_xlsform_expression(text, ins, me)
        except Unsupported as exc:
            notes.append(
                _("{where}: '{text}' uses {what}; left out of the XLSForm").format(where=where, text=text, what=exc)
            )
            return ""

    def list_for(q: Question) -> str:
        name = q.choices if isinstance(q.choices, str) else f"{q.name}_choices"
        if name not in written_lists:
            written_lists.add(name)
            for c in q.choice_options:
                choices.append([name, c.name or str(c.code), *labels(c.label)])
                text = label_text(c.label, ins.language) or str(c.code)
                if c.exclusive:
                    notes.append(
                        _(
                            "{list}: choice {code} '{text}' is exclusive (cannot be combined with other choices);"
                            " XLSForm has no such flag, left out"
                        ).format(list=name, code=c.code, text=text)
                    )
                if c.fixed:
                    notes.append(
                        _(
                            "{list}: choice {code} '{text}' stays in place when choices are randomised;"
                            " XLSForm has no such flag, left out"
                        ).format(list=name, code=c.code, text=text)
                    )
                if c.missing:
                    notes.append(
                        _(
                            "{list}: choice {code} '{text}' is not applicable (out of every base and mean);"
                            " XLSForm has no such flag, left out"
                        ).format(list=name, code=c.code, text=text)
                    )
        return name

    for rule in ins.terminate:
        notes.append(
            _("terminate rule '{when}' ({outcome}) has no XLSForm equivalent; left out").format(
                when=rule.when, outcome=rule.outcome
            )
        )

    def loop_rows(section: Section, plan: LoopPlan) -> tuple[dict[str, str], str]:
        """A loop's begin_repeat and the calculates that name its item; (pipes, a condition for every row)."""
        loop, sec = section.loop, section.name
        assert loop is not None
        names = _loop_names(plan, ins)
        default = ins.language
        skip = ""
        if plan.kind == "over" and plan.source:
            count = f"count-selected(${{{plan.source}}})"
            item = f"selected-at(${{{plan.source}}}, position(..) - 1)"
            shown = f"jr:choice-name(${{{sec}_item}}, '${{{plan.source}}}')"
            left = [n for code, n in names.items() if code not in plan.keys]  # exclusive / not applicable
            skip = " and ".join(f"${{{sec}_item}} != '{n}'" for n in left)
        elif plan.kind == "count" and plan.source:
            source = ins.question(plan.source)
            most = len(plan.keys)
            limit = source.max is None or source.max > most
            count = f"if(${{{plan.source}}} > {most}, {most}, ${{{plan.source}}})" if limit else f"${{{plan.source}}}"
            item, shown = "position(..)", f"${{{sec}_item}}"
        else:
            count = str(len(plan.keys))
            item = "''"
            for number, key in reversed(list(enumerate(plan.keys, 1))):
                item = f"if(position(..) = {number}, '{names[key]}', {item})"
            shown = "''"
            for number, key in reversed(list(enumerate(plan.keys, 1))):
                text = label_text(plan.item_labels[key], default).replace("'", "’")
                shown = f"if(position(..) = {number}, '{text}', {shown})"
            if len(ins.languages) > 1:
                notes.append(
                    _("loop {loop}: its items' labels are piped in {language} only (one calculate for all)").format(
                        loop=sec, language=default
                    )
                )
        survey.append(
            row(
                type="begin_repeat",
                name=sec,
                relevant=expr(section.relevant, sec),
                repeat_count=count,
                **label_cells("label", section.label or loop.label),
            )
        )
        survey.append(row(type="calculate", name=f"{sec}_item", calculation=item))
        survey.append(row(type="calculate", name=f"{sec}_label", calculation=shown))
        return {sec: f"{sec}_label"}, skip

    def write_section(section: Section, plan: LoopPlan | None) -> None:
        pipes: dict[str, str] = {}
        skip = ""
        if plan is None:
            survey.append(
                row(
                    type="begin_group",
                    name=section.name,
                    relevant=expr(section.relevant, section.name),
                    **label_cells("label", section.label),
                )
            )
        else:
            pipes, skip = loop_rows(section, plan)
        for template in section.questions:
            q = _named(ins, template.name) or template  # a loop's question as compiled (its choices resolved)
            required = "yes" if q.is_required and q.answerable else ""
            relevant = expr(template.relevant, f"{template.name}.relevant")
            if skip:  # a loop over ticked choices never goes through "None of these"
                relevant = f"{skip} and ({relevant})" if relevant else skip
            base = {
                "name": template.name,
                "relevant": relevant,
                **label_cells("label", _piped(template.label, pipes)),
                **label_cells("hint", _piped(template.hint, pipes)),
            }
            constraint_parts = []
            if q.type == "numeric":
                if q.min is not None:
                    constraint_parts.append(f". >= {q.min:g}")
                if q.max is not None:
                    constraint_parts.append(f". <= {q.max:g}")
            if q.type == "multi" and q.max_selected:
                notes.append(
                    _("{question}: max_selected {most} written as a constraint").format(
                        question=q.name, most=q.max_selected
                    )
                )
                constraint_parts.append(f"count-selected(.) <= {q.max_selected}")
            own = expr(q.constraint, f"{q.name}.constraint")
            if own:
                constraint_parts.append(f"({own})" if constraint_parts else own)
            constraint = " and ".join(constraint_parts)
            messages = label_cells("constraint_message", q.constraint_message) if q.constraint_message else {}
            if q.specials:
                pass  # XLSForm has no don't know / refused codes; noted once below
            if q.type == "grid":
                survey.append(row(type="begin_group", appearance="table-list", **base))
                list_name = list_for(q)
                for item in q.items or []:
                    survey.append(
                        row(
                            type=f"select_one {list_name}",
                            name=f"{template.name}_{item.name}",
                            required=required,
                            **label_cells("label", item.label),
                        )
                    )
                survey.append(row(type="end_group"))
                continue
            if q.type in ("single", "scale"):
                kind = f"select_one {list_for(q)}"
            elif q.type == "multi":
                kind = f"select_multiple {list_for(q)}"
            elif q.type == "numeric":
                kind = "integer" if q.decimals == 0 else "decimal"
            else:
                kind = q.type
            survey.append(
                row(
                    type=kind,
                    required=required,
                    constraint=constraint,
                    calculation=expr(q.calculate, f"{q.name}.calculate") if q.type == "calculate" else "",
                    choice_filter=expr(q.choice_filter, f"{q.name}.choice_filter", q),
                    appearance="likert" if q.type == "scale" else "",
                    parameters="randomize=true" if q.randomize and q.type in ("single", "multi") else "",
                    **messages,
                    **base,
                )
            )
        survey.append(row(type="end_repeat" if plan is not None else "end_group"))

    for section in ins.sections:
        plan = ins.loops.get(section.name) if section.loop is not None else None
        token = _LOOP.set(plan)
        try:
            write_section(section, plan)
        finally:
            _LOOP.reset(token)
    if any(q.specials for q in ins.questions):
        notes.append(_("don't know / refused codes have no XLSForm equivalent; left out"))
    settings = [
        ["form_title", "form_id", "default_language"],
        [label_text(ins.title, ins.language), ins.id, xlsform_language(ins.language)],
    ]
    return survey, choices, settings, notes


def export_xlsform(ins: Instrument, path: Path) -> list[str]:
    """Write `ins` as an XLSForm workbook (atomically); returns notes on what XLSForm could not carry."""
    import io

    from openpyxl import Workbook

    from survey_tui.io.cells import openpyxl_as_text

    survey, choices, settings, notes = xlsform_sheets(ins)
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for r in survey:
        sheet.append(r)
    for title, rows in (("choices", choices), ("settings", settings)):
        ws = book.create_sheet(title)
        for r in rows:
            ws.append(r)
    for each in book.worksheets:
        openpyxl_as_text(each)
    buffer = io.BytesIO()
    book.save(buffer)
    write_bytes_atomic(Path(path), buffer.getvalue())
    return notes
