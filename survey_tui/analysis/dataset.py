"""The analysis data file: stored answers as one wide polars frame, with metadata that travels with it.

This is the data file the research design asks for (T1.5, P1.5.3): one row per interview, one column per
variable, the way SPSS, Stata and Excel users expect it. Tables, quality review, hypothesis tests and the
exports (SPSS/Stata/Triple-S/codebook) all start from a `Dataset`.

Layout of `Dataset.frame`
-------------------------
* Interview columns first (`INTERVIEW_COLUMNS`): ``interview_id`` (Int64), ``uuid``, ``interviewer``,
  ``mode``, ``language``, ``instrument_version`` (Int32, the version *number*), ``started_at``/``ended_at``
  (Datetime, UTC) and ``duration_s`` (Float64 seconds). They are not `Variable`s; exports may keep them.
* Then one column per `Variable`, in questionnaire order:

  ===========  ======================================  =========================================
  type         column(s)                               values
  ===========  ======================================  =========================================
  single       ``q``                                   Int32 choice code
  scale        ``q``                                   Int32 choice code
  multi        ``q_<code>`` per choice                 Int8 1 chosen / 0 not chosen
               ``q_<special>`` per special code        Int8 1 when answered don't know/refused
  grid         ``q_<item>`` per item                   Int32 choice code
  numeric      ``q``                                   Int64 (Float64 when decimals > 0)
  calculate    ``q``                                   Float64 (String when the formula gives text)
  text         ``q``                                   String (a special answer reads as its code)
  date         ``q``                                   Date (a special answer is null)
  coded open   ``q_coded_<code>``                      Int8 0/1, a multi built from a code frame
  ===========  ======================================  =========================================

  Null means "not asked / no answer" (system missing). Don't know / refused keep their codes (e.g. 98,
  99, or a question's own -8) in the column and are listed in `Variable.missing_codes`, so nothing is lost
  and every table knows to treat them as missing. For a multi question a special answer sets its
  ``q_98``-style column to 1 and leaves the choice columns null.

`Variable` (frozen dataclass) carries: ``name`` (the column), ``question`` (the question it came from),
``label`` and ``value_labels`` per language (``{"zh-TW": ..., "en": ...}``; use `Variable.label_in` /
`Variable.value_label`), ``type`` (question type), ``measure`` (nominal / ordinal / scale, SPSS's
vocabulary), ``missing_codes`` (code -> 'dont_know' | 'refused'), ``relevance`` (the question's relevant
expression, for the codebook), ``instrument_versions`` it was asked in, and for split-out columns
``choice_code`` (multi dichotomy) or ``item`` (grid row). `Dataset.questions()` groups variables back into
questions; `Dataset.resolver()` gives the `WideFrameResolver` that lets filters written in our expression
language run on the frame (`Dataset.filter`).

Defaults of `load_dataset`: field interviews only, completed interviews only, current exclusions (see
`quality`) removed, every published version of the instrument stacked (use ``version=`` for one), coded
open ends (see `coding`) joined. Reading is one bulk query per question (a range of the answers_by_question
index, Arrow columns), each turned into its final columns at once, never a Python loop per interview nor a
long frame of every answer, so a study with 100,000 interviews loads in seconds and in about 3x its frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Literal

import polars as pl

from survey_tui.core.instrument.expressions import WideFrameResolver, parse_expression
from survey_tui.core.instrument.model import Instrument, LoopPlan, Question, label_text
from survey_tui.core.store.sqlite import InstrumentVersion, Store
from survey_tui.core.study import Study

Measure = Literal["nominal", "ordinal", "scale"]

INTERVIEW_COLUMNS: tuple[str, ...] = (
    "interview_id",
    "uuid",
    "interviewer",
    "mode",
    "language",
    "instrument_version",
    "started_at",
    "ended_at",
    "duration_s",
)
CODE_DTYPE = pl.Int32
FLAG_DTYPE = pl.Int8


@dataclass(frozen=True)
class Variable:
    """One column of the data file and everything an analyst (or SPSS) needs to know about it."""

    name: str
    question: str
    type: str
    measure: Measure
    label: dict[str, str] = field(default_factory=dict)
    value_labels: dict[int, dict[str, str]] = field(default_factory=dict)
    missing_codes: dict[int, str] = field(default_factory=dict)
    relevance: str | None = None
    instrument_versions: tuple[int, ...] = ()
    choice_code: int | None = None  # multi dichotomy: the choice this 0/1 column stands for
    item: str | None = None  # grid: the row name
    question_label: dict[str, str] = field(default_factory=dict)
    #: codes of choices marked ``missing: true`` (not applicable): answers, but never in a base or a mean
    na_codes: tuple[int, ...] = ()
    #: how the variable changed across the instrument versions it spans ("v2: label changed", ...)
    history: tuple[str, ...] = ()
    #: asked in a loop: the loop (its section name), the question as written there ("fam") and the item's
    #: code or number; the column is then ``fam_<item>`` (and ``fam_<item>_<code>`` for a multi)
    loop: str | None = None
    loop_question: str | None = None
    loop_item: int | None = None

    def label_in(self, language: str, fallback: str | None = "en") -> str:
        return label_text(self.label, language, fallback) or self.name

    def value_label(self, code: int, language: str, fallback: str | None = "en") -> str:
        if code in self.value_labels:
            return label_text(self.value_labels[code], language, fallback) or str(code)
        return str(code)

    @property
    def is_coded(self) -> bool:
        """Answers are choice codes (a table counts them) rather than amounts or text."""
        return self.type in ("single", "scale", "grid")

    def substantive_codes(self) -> list[int]:
        return [code for code in self.value_labels if code not in self.missing_codes and code not in self.na_codes]

    @property
    def user_missing(self) -> list[int]:
        """Every code a data file declares user-missing: don't know / refused and not-applicable choices."""
        return [*self.missing_codes, *(c for c in self.na_codes if c not in self.missing_codes)]


@dataclass
class Dataset:
    """The wide frame plus its variables; immutable in spirit (methods return new datasets)."""

    frame: pl.DataFrame
    variables: dict[str, Variable]
    instrument: Instrument
    languages: list[str]
    excluded: frozenset[int] = frozenset()
    weight: str | None = None
    #: question or variable -> net label -> codes (code-frame nets; tables add them as rows)
    nets: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.languages[0]

    @property
    def n(self) -> int:
        return self.frame.height

    def variable(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise KeyError(f"no variable {name!r} in the data file") from None

    def questions(self) -> dict[str, list[Variable]]:
        """Variables grouped by the question they came from, in order."""
        grouped: dict[str, list[Variable]] = {}
        for variable in self.variables.values():
            grouped.setdefault(variable.question, []).append(variable)
        return grouped

    @property
    def loops(self) -> dict[str, LoopPlan]:
        """The instrument's loops (none for a data set built without an instrument)."""
        return self.instrument.loops if self.instrument is not None else {}

    def loop_questions(self) -> dict[str, dict[int, list[Variable]]]:
        """Loop questions as written ("fam") -> item -> that iteration's variables, in item order."""
        grouped: dict[str, dict[int, list[Variable]]] = {}
        for variable in self.variables.values():
            if variable.loop_question is not None and variable.loop_item is not None:
                grouped.setdefault(variable.loop_question, {}).setdefault(variable.loop_item, []).append(variable)
        return grouped

    def multi_questions(self) -> dict[str, list[Variable]]:
        return {q: vs for q, vs in self.questions().items() if vs[0].type == "multi"}

    def resolver(self) -> WideFrameResolver:
        """Lets expressions (filters, hypothesis conditions) run on this frame."""
        multi_codes: dict[str, list[int]] = {}
        specials: dict[str, dict[int, str]] = {}
        for question, variables in self.questions().items():
            if variables[0].type == "multi":
                multi_codes[question] = [v.choice_code for v in variables if v.choice_code is not None]
                specials[question] = dict(variables[0].missing_codes)
            elif variables[0].type != "grid":
                specials[question] = dict(variables[0].missing_codes)
            for variable in variables:
                if variable.type == "grid":
                    specials[variable.name] = dict(variable.missing_codes)
        loop = next((name for name in self.loops if name in self.frame.columns), None)  # a stacked frame
        return WideFrameResolver(
            multi_codes=multi_codes, special_codes=specials, schema=dict(self.frame.schema), loop_column=loop
        )

    def filter_expr(self, text: str) -> pl.Expr:
        """A filter in our expression language as a polars predicate (raises ExpressionError)."""
        return parse_expression(text).to_polars_bool(self.resolver())

    def filter(self, text: str | None) -> Dataset:
        if not text:
            return self
        return replace(self, frame=self.frame.filter(self.filter_expr(text)))

    def valid(self, name: str) -> pl.Expr:
        """The column with don't know / refused codes turned into nulls (what a mean should see)."""
        variable = self.variable(name)
        column = pl.col(name)
        if variable.user_missing and self.frame.schema[name].is_numeric():
            codes = pl.Series(variable.user_missing).cast(self.frame.schema[name])
            return pl.when(column.is_in(codes.implode())).then(None).otherwise(column)
        return column

    def with_columns(self, frame: pl.DataFrame, variables: Iterable[Variable]) -> Dataset:
        """Join extra per-interview columns (e.g. a coded open end) on interview_id.

        Only the new columns are aligned to the frame's rows (a join of the whole frame would copy every
        column: 34 MB more at 100,000 interviews, for each coded question); the frame's own are kept as they are.
        """
        aligned = (
            self.frame.select("interview_id")
            .join(frame, on="interview_id", how="left", maintain_order="left")
            .drop("interview_id")
        )
        joined = self.frame.hstack(aligned)
        merged = dict(self.variables)
        for variable in variables:
            merged[variable.name] = variable
        return replace(self, frame=joined, variables=merged)


# -- metadata ----------------------------------------------------------------------------------------


def _measure(question: Question) -> Measure:
    if question.type in ("numeric", "calculate"):
        return "scale"
    if question.type in ("scale", "grid"):
        return "ordinal"
    return "nominal"


def _special_map(question: Question) -> dict[int, str]:
    return {special.code: name for name, special in question.specials.items()}


def variables_for(instrument: Instrument, version: int = 0) -> list[Variable]:
    """The data-file variables of an instrument, in questionnaire order."""
    result: list[Variable] = []
    for question in instrument.questions:
        if question.type == "note":
            continue
        specials = _special_map(question)
        qlabel = _label_naming_the_item(instrument, question)
        special_labels = {s.code: dict(s.label) for s in question.specials.values()}
        value_labels = {c.code: dict(c.label) for c in question.choice_options}
        na_codes = tuple(c.code for c in question.choice_options if c.missing)
        common = {
            "question": question.name,
            "type": question.type,
            "relevance": _relevance_text(instrument, question),
            "instrument_versions": (version,) if version else (),
            "question_label": dict(qlabel),
        }
        if question.slot is not None:
            common |= {
                "loop": question.slot.loop,
                "loop_question": question.slot.template,
                "loop_item": question.slot.key,
            }
        if question.type == "multi":
            for choice in question.choice_options:
                label = {lang: f"{text}: {label_text(choice.label, lang)}" for lang, text in qlabel.items()}
                result.append(
                    Variable(
                        name=f"{question.name}_{choice.code}",
                        measure="nominal",
                        label=label or dict(choice.label),
                        value_labels={
                            1: {"zh-TW": "有選", "en": "Selected"},
                            0: {"zh-TW": "未選", "en": "Not selected"},
                        },
                        choice_code=choice.code,
                        **common,
                    )
                )
            for code in specials:
                label = {lang: f"{text}: {label_text(special_labels[code], lang)}" for lang, text in qlabel.items()}
                result.append(
                    Variable(
                        name=f"{question.name}_{code}",
                        measure="nominal",
                        label=label,
                        value_labels={1: dict(special_labels[code])},
                        missing_codes={},
                        **{**common, "type": "multi_special"},
                    )
                )
        elif question.type == "grid":
            for item in question.items or []:
                label = {lang: f"{text}: {label_text(item.label, lang)}" for lang, text in qlabel.items()}
                result.append(
                    Variable(
                        name=f"{question.name}_{item.name}",
                        measure="ordinal",
                        label=label or dict(item.label),
                        value_labels={**value_labels, **special_labels},
                        missing_codes=specials,
                        na_codes=na_codes,
                        item=item.name,
                        **common,
                    )
                )
        else:
            labels = {**value_labels, **special_labels} if question.type in ("single", "scale", "numeric") else {}
            result.append(
                Variable(
                    name=question.name,
                    measure=_measure(question),
                    label=dict(qlabel),
                    value_labels=labels,
                    missing_codes=specials if question.type != "date" else {},
                    na_codes=na_codes if question.type in ("single", "scale", "numeric") else (),
                    **common,
                )
            )
    return result


def _relevance_text(instrument: Instrument, question: Question) -> str | None:
    """When the variable was asked, in the data file's own names (a loop iteration: its item and its siblings)."""
    slot = question.slot
    if slot is None:
        return question.relevant
    plan = instrument.loops[slot.loop]
    parts = []
    active = plan.active.get(slot.key)
    if active is not None:
        parts.append(active.text)
    if question.relevant:
        text = re.sub(r"\bitem\(\s*\)", str(slot.key), question.relevant)
        text = re.sub(r"\biteration\(\s*\)", str(slot.iteration), text)
        names = "|".join(re.escape(name) for name in plan.templates)
        text = re.sub(r"\bindexed\(\s*\$?\{?(\w+)\}?", lambda m: f"indexed(\0{m.group(1)}", text)  # keep q
        text = re.sub(rf"(?<![\w$\0]){{?\b({names})\b(?![\w(])}}?", lambda m: f"{m.group(1)}_{slot.key}", text)
        parts.append(text.replace("\0", ""))
    if not parts:
        return None
    return " and ".join(f"({part})" if len(parts) > 1 else part for part in parts)


def _label_naming_the_item(instrument: Instrument, question: Question) -> dict[str, str]:
    """A loop iteration's label must say which item it is about: the item is added when the text does not pipe it."""
    slot = question.slot
    if slot is None:
        return dict(question.label)
    plan = instrument.loops[slot.loop]
    labels = {}
    for lang, text in question.label.items():
        if plan.kind == "count":
            item = f"{label_text(plan.label, lang) or plan.name} {slot.key}"
        else:
            item = label_text(plan.item_labels[slot.key], lang, instrument.language)
        labels[lang] = text if item.casefold() in text.casefold() else f"{text} ({item})"
    return labels


def _merge_versions(per_version: list[tuple[int, list[Variable]]]) -> dict[str, Variable]:
    """The union of several versions' variables: every question and item any version asked.

    The newest version that has a variable gives its label and value labels (codes only older versions
    had keep their old labels), the versions that asked it are accumulated, and `history` says what
    changed from one version to the next. Order is the newest version's, a variable only older versions
    had placed after the last variable of its question (or at the end when the whole question is gone).
    """
    ordered = sorted(per_version)
    merged: dict[str, Variable] = {}
    history: dict[str, list[str]] = {}
    all_versions = [version for version, _ in ordered]
    for version, variables in ordered:
        present = {v.name for v in variables}
        for name, previous in merged.items():
            if name not in present and previous.instrument_versions[-1:] == (
                all_versions[all_versions.index(version) - 1],
            ):
                history[name].append(f"v{version}: not asked (dropped)")
        for variable in variables:
            previous = merged.get(variable.name)
            if previous is None:
                merged[variable.name] = replace(variable, instrument_versions=(version,))
                history[variable.name] = [f"v{version}: added"] if version != all_versions[0] else []
                continue
            history[variable.name] += _changes(previous, variable, version)
            merged[variable.name] = replace(
                variable,
                instrument_versions=(*previous.instrument_versions, version),
                value_labels={**previous.value_labels, **variable.value_labels},
                missing_codes={**previous.missing_codes, **variable.missing_codes},
                na_codes=tuple(dict.fromkeys((*previous.na_codes, *variable.na_codes))),
            )
    for (_, before), (version, after) in zip(ordered, ordered[1:], strict=False):
        for question in _moved_questions(before, after):
            for variable in after:
                if variable.question == question:
                    history[variable.name].append(f"v{version}: moved in the questionnaire")
    order = [v.name for v in ordered[-1][1]] if ordered else []
    for name, variable in merged.items():
        if name in order:
            continue
        same = [i for i, other in enumerate(order) if merged[other].question == variable.question]
        order.insert(same[-1] + 1 if same else len(order), name)
    return {name: replace(merged[name], history=tuple(history.get(name, ()))) for name in order}


def _moved_questions(before: list[Variable], after: list[Variable]) -> set[str]:
    """Questions both versions ask whose place changed: those outside the blocks kept in the same order."""
    old = list(dict.fromkeys(v.question for v in before))
    new = [q for q in dict.fromkeys(v.question for v in after) if q in old]
    old = [q for q in old if q in new]
    matcher = SequenceMatcher(a=old, b=new, autojunk=False)
    kept = {new[block.b + k] for block in matcher.get_matching_blocks() for k in range(block.size)}
    return set(new) - kept


def _changes(old: Variable, new: Variable, version: int) -> list[str]:
    """What differs between two versions of one variable, for the codebook."""
    out = []
    if old.label != new.label:
        out.append(f"v{version}: label changed (was {label_text(old.label, next(iter(old.label), 'en'))!r})")
    added = sorted(set(new.value_labels) - set(old.value_labels))
    dropped = sorted(set(old.value_labels) - set(new.value_labels))
    relabelled = sorted(
        c for c in set(old.value_labels) & set(new.value_labels) if old.value_labels[c] != new.value_labels[c]
    )
    if added:
        out.append(f"v{version}: codes added {', '.join(map(str, added))}")
    if dropped:
        out.append(f"v{version}: codes dropped {', '.join(map(str, dropped))} (their labels kept)")
    for code in relabelled:
        was = label_text(old.value_labels[code], next(iter(old.value_labels[code]), "en"))
        out.append(f"v{version}: code {code} relabelled (was {was!r})")
    return out


# -- reading -----------------------------------------------------------------------------------------


INTERVIEWS_SQL = """
SELECT i.id AS interview_id, i.uuid, i.interviewer, i.mode, i.language, v.version AS instrument_version,
       i.started_at, i.ended_at
FROM interviews i JOIN instrument_versions v ON v.id = i.instrument_version_id
WHERE v.instrument_id = ? {where}
ORDER BY i.id
"""

#: one question's answers; the index answers_by_question (question, interview_id, value, special) makes this a
#: range read on SQLite, in interview order. Answers of interviews not selected are dropped by the alignment.
ANSWERS_SQL = "SELECT interview_id, value, special FROM answers WHERE question = ? ORDER BY interview_id"


def _where(
    mode: str | None, complete_only: bool, version: int | None, exclusions: bool = False
) -> tuple[str, list[object]]:
    clauses, params = [], []
    if exclusions:  # in SQL: the excluded interviews are never read (a tenth of the rows at 100,000)
        from survey_tui.analysis.quality import EXCLUDED_SQL

        clauses.append(f"i.id NOT IN ({EXCLUDED_SQL})")
    if mode:
        clauses.append("i.mode = ?")
        params.append(mode)
    if complete_only:
        clauses.append("i.outcome = 'complete'")
    if version is not None:
        clauses.append("v.version = ?")
        params.append(version)
    return "".join(f" AND {c}" for c in clauses), params


INTERVIEW_SCHEMA = {
    "interview_id": pl.Int64,
    "uuid": pl.String,
    "interviewer": pl.String,
    "mode": pl.String,
    "language": pl.String,
    "instrument_version": pl.Int32,
    "started_at": pl.String,
    "ended_at": pl.String,
}
ANSWER_SCHEMA = {"interview_id": pl.Int64, "value": pl.String, "special": pl.String}


def _interview_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The interview columns of the data file, from the rows as read (timestamps as text).

    Every column is made anew in polars' memory. A column taken over as read would share the driver's Arrow
    batch, and one column of it keeps the whole batch alive (the timestamps' text too: 14 MB at 100,000
    interviews); made anew, the batch is freed here and its memory serves the answers read next.
    """
    started, ended = (
        pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False)
        for c in ("started_at", "ended_at")
    )
    texts = [pl.concat_str([pl.col(c), pl.lit("")]).alias(c) for c in ("uuid", "interviewer", "mode", "language")]
    return frame.select(
        (pl.col("interview_id") + 0).alias("interview_id"),  # `+ 0`: a copy (a cast to its own type is not)
        *texts,
        pl.col("instrument_version"),
        started,
        ended,
        ((ended - started).dt.total_microseconds() / 1e6).alias("duration_s"),
    )


def _special_code_expr(specials: dict[int, str]) -> pl.Expr:
    """The special name in the `special` column mapped to its code for this question."""
    expr: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for code, name in specials.items():
        expr = pl.when(pl.col("special") == name).then(pl.lit(code, dtype=pl.Int64)).otherwise(expr)
    return expr


def _scalar_column(rows: pl.DataFrame, question: Question) -> pl.Series:
    """One single / scale / numeric / calculate / text / date question's column, in its final dtype."""
    name = question.name
    if question.type in ("text", "date"):
        special = pl.lit(None, dtype=pl.String)
        for code, special_name in _special_map(question).items():
            special = pl.when(pl.col("special") == special_name).then(pl.lit(str(code))).otherwise(special)
        value = pl.coalesce(special, pl.col("value").str.json_path_match("$"))
        if question.type == "date":
            value = value.str.to_date("%Y-%m-%d", strict=False)
        return rows.select(value.alias(name)).to_series()
    special_code = pl.lit(None, dtype=pl.Float64)
    for code, special_name in _special_map(question).items():
        special_code = pl.when(pl.col("special") == special_name).then(pl.lit(float(code))).otherwise(special_code)
    x = pl.coalesce(special_code, pl.col("value").cast(pl.Float64, strict=False))
    if question.type in ("single", "scale"):
        return rows.select(x.cast(CODE_DTYPE).alias(name)).to_series()
    if question.type == "numeric":
        return rows.select((x.round(0).cast(pl.Int64) if question.decimals == 0 else x).alias(name)).to_series()
    # calculate: numbers, unless no answer is a number and some are text (a text formula)
    numbers = rows.select(x.alias(name)).to_series()
    if numbers.null_count() == numbers.len():
        texty = pl.col("value").is_not_null() & (pl.col("value") != "null")
        text = rows.select(pl.when(texty).then(pl.col("value").str.json_path_match("$")).alias(name)).to_series()
        if text.null_count() < text.len():
            return text
    return numbers


def _multi_columns(rows: pl.DataFrame, question: Question, codes: list[int]) -> pl.DataFrame:
    # Each code is looked up in the stored JSON list as text (a number between '[' or ',' and ',' or ']'):
    # polars' JSON decoder needs 30 MB of scratch for 100,000 short lists, this needs none, and is faster.
    # A stored value that is not a list reads as no answer, as the decoder read it.
    specials = _special_map(question)
    is_special = pl.col("special").is_not_null()
    answered = pl.col("value").is_not_null() | is_special
    is_list = pl.col("value").str.starts_with("[")
    exprs = [
        pl.when(is_special | ~answered | ~is_list)
        .then(None)
        .otherwise(pl.col("value").str.contains(rf"[\[,]\s*{code}\s*[,\]]").cast(FLAG_DTYPE))
        .cast(FLAG_DTYPE)
        .alias(f"{question.name}_{code}")
        for code in codes
    ]
    exprs += [
        pl.when(answered)
        .then((pl.col("special") == name).fill_null(False).cast(FLAG_DTYPE))
        .cast(FLAG_DTYPE)
        .alias(f"{question.name}_{code}")
        for code, name in specials.items()
    ]
    return rows.select(exprs)


def _grid_columns(rows: pl.DataFrame, question: Question, items: list[str]) -> pl.DataFrame:
    # Each item's code is read from the stored JSON object as text ("item": 3, or "item": "3"): a value that
    # is no whole number is missing, as before; polars' JSON decoder needs 25 MB of scratch per grid here.
    if not items:
        return pl.DataFrame()
    special_code = _special_code_expr(_special_map(question))
    exprs = [
        pl.coalesce(
            special_code,
            pl.col("value").str.extract(rf'"{re.escape(item)}"\s*:\s*"?(-?\d+)"?\s*[,}}]').cast(pl.Int64),
        )
        .cast(CODE_DTYPE)
        .alias(f"{question.name}_{item}")
        for item in items
    ]
    return rows.select(exprs)


def _sorted_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame sorted by interview_id and flagged so (it usually comes sorted: then the check is all)."""
    if frame["interview_id"].is_sorted():
        return frame.with_columns(pl.col("interview_id").set_sorted())
    return frame.sort("interview_id")


def build_frame(
    interviews: pl.DataFrame,
    answers: Iterable[pl.DataFrame],
    questions: Iterable[Question],
    variables: Iterable[Variable],
) -> pl.DataFrame:
    """Wide frame from the interview rows and each question's answers (interview_id, value, special), given
    in the order of `questions` (notes excluded); answers of interviews not in `interviews` are ignored.

    Each question's answers are aligned to the interview rows by one join and turned into their final
    columns at once, so this holds one question's answers at a time (and no long frame of every answer;
    the store reads at most one question ahead), and no column is copied afterwards. Grid items and multi
    choices come from `variables` (the union over versions), so an item or choice only an older version
    asked still gets its column and its answers.
    """
    questions = [q for q in questions if q.type != "note"]
    variables = list(variables)
    items: dict[str, list[str]] = {}
    codes: dict[str, list[int]] = {}
    for variable in variables:
        if variable.item is not None:
            items.setdefault(variable.question, []).append(variable.item)
        if variable.type == "multi" and variable.choice_code is not None:
            codes.setdefault(variable.question, []).append(variable.choice_code)
    interviews = _sorted_ids(interviews)
    index = interviews.select("interview_id")
    columns: dict[str, pl.Series] = {name: interviews[name] for name in interviews.columns}
    # not zip(): it keeps the last item it gave until it has the next, so two questions' answers would be in
    # memory while the next one is read; here each is dropped before the next read
    batches = iter(answers)
    for question in questions:
        rows = next(batches, None)
        if rows is None:
            raise ValueError(f"no answers given for {question.name} (one frame per question)")
        # both sides sorted by id: polars merges them (10x faster than a hash join)
        aligned = index.join(_sorted_ids(rows), on="interview_id", how="left", maintain_order="left")
        del rows
        if question.type == "multi":
            chosen = codes.get(question.name, [c.code for c in question.choice_options])
            columns.update({c.name: c for c in _multi_columns(aligned, question, chosen)})
        elif question.type == "grid":
            names = items.get(question.name, [item.name for item in question.items or []])
            columns.update({c.name: c for c in _grid_columns(aligned, question, names)})
        else:
            columns[question.name] = _scalar_column(aligned, question)
        del aligned
    if next(batches, None) is not None:
        raise ValueError("more answer frames than questions")
    height = interviews.height
    wanted = [*INTERVIEW_COLUMNS, *[v.name for v in variables]]
    return pl.DataFrame(
        [columns[n] if n in columns else pl.Series(n, [None] * height, dtype=CODE_DTYPE) for n in wanted]
    )


def load_dataset(
    study: Study,
    instrument_id: str | None = None,
    *,
    version: int | None = None,
    mode: str | None = "field",
    complete_only: bool = True,
    apply_exclusions: bool = True,
    include_coded: bool = True,
    store: Store | None = None,
    weighting: bool = True,
) -> Dataset:
    """Read the study's answers into a `Dataset` (see the module docstring for the defaults).

    With `weighting` (the default) a study with `weighting:` targets gets its weight as a variable,
    computed on the default selection (see `analysis.weighting`); bad targets raise LoadError.
    """
    own = store is None
    store = store or study.store()
    try:
        versions = store.versions(instrument_id)
        if instrument_id is None:
            ids = sorted({v.instrument_id for v in versions})
            if len(ids) > 1:
                raise ValueError(f"several instruments have data ({', '.join(ids)}): say which one")
            if not ids:
                instrument = study.load_instrument()
                instrument_id = instrument.id
                versions = []
            else:
                instrument_id = ids[0]
        if version is not None:
            versions = [v for v in versions if v.version == version]
            if not versions:
                raise ValueError(f"{instrument_id} has no published version {version}")
        per_version = [(v.version, variables_for(study.instrument_for_version(v), v.version)) for v in versions]
        instrument = study.instrument_for_version(versions[-1]) if versions else study.load_instrument(instrument_id)
        variables = _merge_versions(per_version) if per_version else {v.name: v for v in variables_for(instrument)}
        excluded: frozenset[int] = frozenset()
        if apply_exclusions:
            from survey_tui.analysis.quality import excluded_interviews

            excluded = frozenset(excluded_interviews(store))
        # in bulk (Arrow columns where the driver allows), never a Python object per answer; excluded
        # interviews are left out by the query, so neither their rows nor a filtered copy are ever made
        where, params = _where(mode, complete_only, version, exclusions=bool(excluded))
        interviews = _interview_frame(
            store.read_frame(INTERVIEWS_SQL.format(where=where), (instrument_id, *params), INTERVIEW_SCHEMA)
        )
        questions = [q for q in _union_questions(study, versions, instrument) if q.type != "note"]
        # one question at a time, on one connection (the store runs the next question's query meanwhile)
        answers = store.read_frames(ANSWERS_SQL, [(q.name,) for q in questions], ANSWER_SCHEMA)
        try:
            frame = build_frame(interviews, answers, questions, variables.values())
        finally:
            answers.close()
        languages = list(dict.fromkeys([instrument.language, *instrument.languages]))
        weight = next((name for name in ("weight", "wt") if name in variables), None)
        dataset = Dataset(frame, variables, instrument, languages, excluded, weight)
        if include_coded:
            from survey_tui.analysis.coding import add_coded_variables

            dataset = add_coded_variables(study, store, dataset)
        if weighting and study.config.weighting is not None:
            from survey_tui.analysis.weighting import attach_weight

            standard = version is None and mode == "field" and complete_only and apply_exclusions
            dataset = attach_weight(study, dataset, standard=standard, store=store)
        return dataset
    finally:
        if own:
            store.close()


def _union_questions(study: Study, versions: list[InstrumentVersion], newest: Instrument) -> list[Question]:
    """The newest version's questions, then questions only older versions asked (their data stay)."""
    questions = list(newest.questions)
    known = {q.name for q in questions}
    for version in versions[:-1]:
        for question in study.instrument_for_version(version).questions:
            if question.name not in known:
                known.add(question.name)
                questions.append(question)
    return questions
