"""Frequencies and banner tables with significance letters (T1.5, P1.5.2 / P1.5.5): the table engine.

Every table, chart, report line and hypothesis verdict reads its numbers from here, with its base from
`survey_tui.analysis.base` (one rule: substantive answers by default, don't know / refused as rows outside
the base) and its columns from `survey_tui.analysis.banner` (single, multi-coded, overlapping and nested
banner parts). Letters come from `survey_tui.analysis.significance`: column proportions (pooled z) and
column means (Welch t, or pooled t), between the columns of each banner group, corrected for shared
respondents, on effective bases under a weight, with none / Bonferroni / Holm / Benjamini-Hochberg
corrections. No letters are given against a column under the minimum test base (30 by default), and
columns under the small-base threshold (100) are flagged. Every table carries a footnote that says its
base, test, level, correction, weight and filter.

How it is fast: each stub is counted once per banner key with `numpy.bincount` (stub code x key), and
every column's counts, bases, sums of squared weights and overlaps are matrix products of that small
count table (see `banner`). Means and SDs come from the same pass (sums of weights, x and x^2 are
additive). Frequencies use one parallel polars select of ``(col == code).sum()`` for all variables.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl

from survey_tui.analysis.banner import Banner, BannerSpec, GroupSpec, build_banner
from survey_tui.analysis.base import BaseRule
from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.analysis.loops import loop_of_stubs, stack_loop, stacked_base_note
from survey_tui.analysis.significance import CORRECTION_NAMES, CORRECTIONS, mean_test, proportion_test, significant
from survey_tui.i18n import N_, Phrase

SMALL_BASE = 100
MIN_TEST_BASE = 30
LEVELS = (0.90, 0.95, 0.99)
TEXT = {
    "total": {"en": "Total", "zh-TW": "總計"},
    "base": {"en": "Base", "zh-TW": "樣本數"},
    "base_unweighted": {"en": "Base (unweighted)", "zh-TW": "樣本數（未加權）"},
    "base_weighted": {"en": "Base (weighted)", "zh-TW": "樣本數（加權）"},
    "mean": {"en": "Mean", "zh-TW": "平均數"},
    "sd": {"en": "Std. deviation", "zh-TW": "標準差"},
    "median": {"en": "Median", "zh-TW": "中位數"},
    "top2": {"en": "Top 2 box", "zh-TW": "前兩項（T2B）"},
    "bottom2": {"en": "Bottom 2 box", "zh-TW": "後兩項（B2B）"},
    "promoters": {"en": "Promoters (9-10)", "zh-TW": "推薦者（9-10）"},
    "passives": {"en": "Passives (7-8)", "zh-TW": "中立者（7-8）"},
    "detractors": {"en": "Detractors (0-6)", "zh-TW": "批評者（0-6）"},
    "nps": {"en": "NPS", "zh-TW": "淨推薦值 NPS"},
    "system_missing": {"en": "Not asked / no answer", "zh-TW": "未問／無回答"},
    "outside": {"en": "outside the base", "zh-TW": "不計入樣本數"},
    "small": {"en": "small base (< {n})", "zh-TW": "樣本數小於 {n}"},
}


def tr(key: str, language: str) -> str:
    texts = TEXT[key]
    return texts.get(language) or texts["en"]


@dataclass(frozen=True)
class TableOptions:
    """What the researcher chose for a run of tables (a tab plan sets these per table)."""

    level: float = 0.95
    correction: str = "none"  # none | bonferroni | holm | bh
    bonferroni: bool = False  # shorthand for correction="bonferroni"
    weight: str | None = None
    filter: str | None = None
    language: str = "zh-TW"
    small_base: int = SMALL_BASE
    min_test_base: int = MIN_TEST_BASE
    dk_in_base: bool = False  # "total asked": don't know / refused inside the base
    equal_variance: bool = False  # pooled t for means instead of Welch
    compare_total: bool = False  # also test each column against Total (marks ▲ / ▼)
    nets: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # stub -> net label -> codes
    sort: str = "none"  # none | descending | ascending (code rows by the Total column)
    hide_below: float | None = None  # hide code rows whose Total count is under this

    def __post_init__(self) -> None:
        if not any(abs(self.level - level) < 1e-9 for level in LEVELS):
            raise ValueError(f"significance level must be one of 90, 95 or 99 %, not {self.level:.0%}")
        if self.bonferroni and self.correction == "none":
            object.__setattr__(self, "correction", "bonferroni")
        if self.correction not in CORRECTIONS:
            raise ValueError(f"unknown correction {self.correction!r}; use one of {', '.join(CORRECTIONS)}")
        if self.sort not in ("none", "descending", "ascending"):
            raise ValueError(f"sort must be none, descending or ascending, not {self.sort!r}")

    @property
    def alpha(self) -> float:
        return round(1 - self.level, 10)

    @property
    def rule(self) -> BaseRule:
        return BaseRule(dk_in_base=self.dk_in_base)


# -- frequencies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyRow:
    code: int | None
    label: str
    count: float
    percent: float  # of every interview in the selection
    valid_percent: float | None  # of the base; None for rows outside it
    missing: bool = False


@dataclass(frozen=True)
class Frequency:
    variable: str
    title: str
    rows: list[FrequencyRow]
    total: float  # every interview in the (filtered) dataset
    valid: float  # the base: substantive answers (see `base`)
    multi: bool = False  # rows are choices of a multi question (valid % of those answering)

    @property
    def missing(self) -> float:
        return self.total - self.valid


def _expand(dataset: Dataset, names: Sequence[str]) -> list[tuple[str, list[Variable]]]:
    """Names as given: a multi question stays one table; a grid question becomes its items."""
    questions = dataset.questions()
    result: list[tuple[str, list[Variable]]] = []
    for name in names:
        if name in dataset.variables and dataset.variables[name].type not in ("multi", "multi_special"):
            result.append((name, [dataset.variables[name]]))
        elif name in questions and questions[name][0].type == "multi":
            result.append((name, list(questions[name])))
        elif name in questions and questions[name][0].type == "grid":
            # an item no interview of this selection was asked (dropped in a later version) is left out
            frame = dataset.frame
            items = [v for v in questions[name] if frame.get_column(v.name).null_count() < frame.height]
            result.extend((v.name, [v]) for v in items or questions[name])
        elif name in dataset.variables:
            result.append((name, [dataset.variables[name]]))
        else:
            raise KeyError(f"no question or variable named {name!r}")
    return result


def _weights(weight: str | None) -> pl.Expr:
    return pl.col(weight).cast(pl.Float64).fill_null(0.0) if weight else pl.lit(1.0)


def _multi_parts(variables: list[Variable]) -> tuple[list[Variable], list[Variable]]:
    """(choice columns, special-answer columns) of a multi question."""
    return [v for v in variables if v.type == "multi"], [v for v in variables if v.type == "multi_special"]


def multi_base_expr(variables: list[Variable]) -> pl.Expr:
    """A multi question's base: answered with at least a choice (not a don't know / refused)."""
    choices, _ = _multi_parts(variables)
    answered = pl.any_horizontal([pl.col(v.name).is_not_null() for v in choices]) if choices else pl.lit(False)
    return answered.fill_null(False)


def frequencies(
    dataset: Dataset, names: Sequence[str] | None = None, options: TableOptions | None = None
) -> list[Frequency]:
    """Counts, % of all and % of the base per code, for each named question/variable (default: all)."""
    options = options or TableOptions()
    language, rule = options.language, options.rule
    data = dataset.filter(options.filter)
    frame = data.frame
    names = list(names) if names is not None else _default_stubs(data)
    specs = _expand(data, names)
    weighted = options.weight is not None
    w = _weights(options.weight)

    def total_of(condition: pl.Expr, alias: str) -> pl.Expr:
        return (condition.cast(pl.Float64) * w if weighted else condition).sum().alias(alias)

    exprs: list[pl.Expr] = []
    plan: list[tuple[str, list[Variable], list[int]]] = []
    schema = frame.schema
    known_nonnull: dict[str, int] = {}
    for name, variables in specs:
        if variables[0].type in ("multi", "multi_special"):
            choices, specials = _multi_parts(variables)
            exprs += [total_of((pl.col(v.name) == 1).fill_null(False), f"{v.name}|1") for v in choices + specials]
            exprs.append(total_of(multi_base_expr(variables), f"{name}|base"))
            exprs.append(
                total_of(
                    pl.any_horizontal([pl.col(v.name).is_not_null() for v in choices + specials]).fill_null(False),
                    f"{name}|answered",
                )
            )
            plan.append((name, variables, []))
            continue
        v = variables[0]
        codes = list(v.value_labels) if schema[v.name].is_numeric() else []
        exprs += [total_of(pl.col(v.name) == code, f"{v.name}|{code}") for code in codes]
        if weighted:
            exprs.append(total_of(pl.col(v.name).is_not_null(), f"{v.name}|nonnull"))
        else:  # null counts are column metadata: no pass over the data
            known_nonnull[f"{v.name}|nonnull"] = frame.height - frame.get_column(v.name).null_count()
        plan.append((name, variables, codes))
    totals = {**(frame.select(exprs).row(0, named=True) if exprs else {}), **known_nonnull}
    total = float(frame.select(w.sum()).item()) if weighted else float(frame.height)
    result: list[Frequency] = []
    for name, variables, codes in plan:
        first = variables[0]
        if first.type in ("multi", "multi_special"):
            choices, specials = _multi_parts(variables)
            base = float(totals[f"{name}|base"])
            answered = float(totals[f"{name}|answered"])
            rows = [
                FrequencyRow(
                    v.choice_code,
                    choice_label(v, language),
                    float(totals[f"{v.name}|1"]),
                    _pct(float(totals[f"{v.name}|1"]), total),
                    _pct(float(totals[f"{v.name}|1"]), base),
                )
                for v in choices
            ]
            rows += [
                FrequencyRow(
                    None,
                    choice_label(v, language),
                    float(totals[f"{v.name}|1"]),
                    _pct(float(totals[f"{v.name}|1"]), total),
                    None,
                    True,
                )
                for v in specials
            ]
            rows.append(
                FrequencyRow(
                    None, tr("system_missing", language), total - answered, _pct(total - answered, total), None, True
                )
            )
            result.append(Frequency(name, _question_title(first, language), rows, total, base, multi=True))
            continue
        counts: dict = {code: float(totals[f"{first.name}|{code}"]) for code in codes}  # type: ignore[type-arg]
        nonnull = float(totals[f"{first.name}|nonnull"])
        if sum(counts.values()) + 1e-9 < nonnull:  # codes without a label, or a text/date variable
            counts = _value_counts(frame, first.name, options.weight, counts)
        outside = set(rule.outside_codes(first))
        valid = sum(c for code, c in counts.items() if code not in outside)
        rows = []
        for code, count in counts.items():
            missing = code in outside
            if count == 0 and code not in first.value_labels:
                continue
            rows.append(
                FrequencyRow(
                    code if isinstance(code, int) else None,
                    first.value_label(code, language) if isinstance(code, int) else str(code),
                    count,
                    _pct(count, total),
                    None if missing else _pct(count, valid),
                    missing,
                )
            )
        rows.append(
            FrequencyRow(
                None, tr("system_missing", language), total - nonnull, _pct(total - nonnull, total), None, True
            )
        )
        result.append(Frequency(first.name, _variable_title(first, language), rows, total, valid))
    return result


def _value_counts(frame: pl.DataFrame, name: str, weight: str | None, known: dict) -> dict:  # type: ignore[type-arg]
    agg = pl.col(weight).cast(pl.Float64).sum() if weight else pl.len()
    counted = frame.filter(pl.col(name).is_not_null()).group_by(name).agg(agg.alias("n")).sort(name)
    found = dict(zip(counted[name].to_list(), counted["n"].cast(pl.Float64).to_list(), strict=True))
    ordered = {code: found.get(code, 0.0) for code in known}
    for code, count in found.items():
        ordered.setdefault(code, count)
    return ordered


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _variable_title(v: Variable, language: str) -> str:
    return f"{v.name} {v.label_in(language)}"


def _question_title(v: Variable, language: str) -> str:
    from survey_tui.core.instrument.model import label_text

    return f"{v.question} {label_text(v.question_label, language, 'en') or v.question}"


def choice_label(v: Variable, language: str) -> str:
    """The choice's own label of a multi dichotomy (its variable label is "question: choice")."""
    label = v.label_in(language)
    question = _question_title(v, language).split(" ", 1)[-1]
    return label[len(question) + 2 :] if label.startswith(question + ": ") else label


def _default_stubs(dataset: Dataset) -> list[str]:
    """Every tabulable variable that has data in this selection (an item an earlier version dropped has none)."""
    frame = dataset.frame
    empty = {name for name in frame.columns if frame[name].null_count() == frame.height}
    names: list[str] = []
    for question, all_variables in dataset.questions().items():
        variables = [v for v in all_variables if v.name not in empty]
        if not variables:
            continue
        kind = variables[0].type
        if kind in ("single", "scale", "multi"):
            names.append(question)
        elif kind == "grid":
            names.extend(v.name for v in variables)
        elif kind in ("numeric", "calculate") and dataset.frame.schema[variables[0].name].is_numeric():
            names.append(question)
    return names


# -- banner tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BannerColumn:
    variable: str | None  # None: the Total column
    code: int | None
    label: str
    letter: str
    base: float  # weighted (the count when unweighted)
    unweighted: int
    small: bool  # under the small-base threshold: flagged
    effective: float = 0.0  # Kish effective base (the count when unweighted)
    testable: bool = True  # at or over the minimum test base: takes part in the letters
    part: str | None = None  # the banner part (group of columns) it belongs to
    part_label: str | None = None  # that part's label, for the header band above its columns


@dataclass
class TableRow:
    #: code | net | top2 | bottom2 | promoters | passives | detractors | nps | mean | sd | median | missing
    #: ("missing": a row outside the base, e.g. don't know, counted but given no percentage)
    kind: str
    label: str
    code: int | None
    counts: np.ndarray | None  # per column (weighted); None for mean/sd/median/nps
    values: np.ndarray  # column % (0-100) of the base, or the statistic; NaN outside the base
    letters: list[str]
    total_marks: list[str] = field(default_factory=list)  # ▲ / ▼ against Total (compare_total)


@dataclass
class StubTable:
    stub: str
    title: str
    columns: list[BannerColumn]
    rows: list[TableRow]
    base_label: str
    filter: str | None = None
    weight: str | None = None
    level: float = 0.95
    bonferroni: bool = False
    correction: str = "none"
    base_rule: str = ""  # who is in the base, in words
    test: str = ""  # which tests made the letters, in words
    overlapping: list[str] = field(default_factory=list)  # banner parts whose columns share respondents
    options: TableOptions | None = None
    id: str | None = None  # the tab plan table this came from

    def row(self, kind: str, code: int | None = None) -> TableRow:
        for row in self.rows:
            if row.kind == kind and (code is None or row.code == code):
                return row
        raise KeyError(f"{self.stub}: no {kind} row {code if code is not None else ''}".strip())

    def column_index(self, variable: str | None, code: int | None = None) -> int:
        for index, column in enumerate(self.columns):
            if column.variable == variable and column.code == code:
                return index
        raise KeyError(f"no banner column {variable}={code}")

    @property
    def weighted(self) -> bool:
        return self.weight is not None

    def footnote(self, language: str = "en") -> list[str]:
        """Base, test, level, correction, weight and filter: what a reader needs to trust the letters.

        The lines are Phrases: files (reports, tab books) keep these English words, the screen shows them
        in the interface language with `survey_tui.i18n.shown`."""
        opts = self.options or TableOptions()
        lines = [Phrase(N_("Base: {rule}."), rule=self.base_rule)]
        if self.weighted:
            lines.append(
                Phrase(
                    N_("Weight: {weight}; weighted and unweighted bases shown; tests use effective bases."),
                    weight=self.weight,
                )
            )
        else:
            lines.append(Phrase(N_("Unweighted.")))
        correction = CORRECTION_NAMES[self.correction]
        lines.append(
            Phrase(
                N_(
                    "Letters: {test} at {level:.0%}, two-sided, {correction}; a letter marks the column this one is "
                    "higher than. No tests against columns under {min_base}; * marks a base under {small_base}."
                ),
                test=self.test,
                level=self.level,
                correction=Phrase(correction) if self.correction == "none" else correction,
                min_base=opts.min_test_base,
                small_base=opts.small_base,
            )
        )
        if opts.compare_total:
            lines.append(Phrase(N_("▲ / ▼: significantly higher / lower than Total (overlap-corrected).")))
        if self.overlapping:
            lines.append(
                Phrase(
                    N_("Columns of {banners} share respondents; their tests are overlap-corrected."),
                    banners=", ".join(self.overlapping),
                )
            )
        no_filter = Phrase(N_("Filter: none."))
        lines.append(Phrase(N_("Filter: {filter}."), filter=self.filter) if self.filter else no_filter)
        return lines


def letters_for(count: int) -> list[str]:
    """A, B, ..., Z, AA, AB, ... (the usual banner column letters)."""
    result = []
    for index in range(count):
        text, n = "", index
        while True:
            text = chr(ord("A") + n % 26) + text
            n = n // 26 - 1
            if n < 0:
                break
        result.append(text)
    return result


def scale_points(variable: Variable) -> list[int]:
    """The contiguous run of codes that forms the scale (1-5, 0-10), leaving 96/97-style extra codes out."""
    outside = set(variable.missing_codes) | set(variable.na_codes)
    codes = sorted(c for c in variable.value_labels if c not in outside)
    if not codes:
        return []
    run = [codes[0]]
    for code in codes[1:]:
        if code != run[-1] + 1:
            break
        run.append(code)
    return run


def data_nets(data: Dataset, name: str) -> dict[str, list[int]]:
    """Nets that travel with the data (e.g. a code frame's nets for a coded open end)."""
    return data.nets.get(name, {})


class _Counts:
    """One stub counted against every banner key: raw [rows, combos] sums of w, 1 and w^2 per key."""

    def __init__(self, banner: Banner, raw_w: list[np.ndarray], raw_u: list[np.ndarray], raw_q: list[np.ndarray]):
        self.banner, self.raw_w, self.raw_u, self.raw_q = banner, raw_w, raw_u, raw_q

    def columns(self, which: str, rows: np.ndarray) -> np.ndarray:
        """``rows`` (a [R', slots] combination of the raw rows) per banner column: [R', columns]."""
        raw = {"w": self.raw_w, "u": self.raw_u, "q": self.raw_q}[which]
        out = np.zeros((rows.shape[0], self.banner.width))
        for key, part in zip(self.banner.keys, raw, strict=True):
            out[:, key.columns] = rows @ part @ key.membership
        return out

    def overlap(self, which: str, rows: np.ndarray, i: int, j: int) -> np.ndarray | None:
        """The same sums over respondents in both columns i and j; None when they share nobody."""
        if i == 0:  # Total holds everyone: the overlap is column j itself
            return self.columns(which, rows)[:, j]
        found = self.banner.overlap_membership(i, j)
        if found is None:
            return None
        k, both = found
        raw = {"w": self.raw_w, "u": self.raw_u, "q": self.raw_q}[which][k]
        return rows @ raw @ both


def _bincounts(
    banner: Banner, index: np.ndarray | None, slots: int, vectors: np.ndarray | None, weights: np.ndarray | None
) -> _Counts:
    """Count a stub: ``index`` (slot per respondent) or ``vectors`` ([rows, respondents] indicators/values)."""
    raw_w, raw_u, raw_q = [], [], []
    for k, key in enumerate(banner.keys):
        if index is not None:
            # the first key's combined index comes from polars (slot * combos + key, in parallel)
            combined = index if k == 0 else (index // banner.keys[0].combos) * key.combos + key.key
            size = slots * key.combos
            u = np.bincount(combined, minlength=size).reshape(slots, key.combos).astype(np.float64)
            if weights is None:
                raw_w.append(u)
                raw_u.append(u)
                raw_q.append(u)
                continue
            raw_u.append(u)
            raw_w.append(np.bincount(combined, weights=weights, minlength=size).reshape(slots, key.combos))
            raw_q.append(np.bincount(combined, weights=weights * weights, minlength=size).reshape(slots, key.combos))
        else:
            assert vectors is not None
            u = np.stack([np.bincount(key.key, weights=v, minlength=key.combos) for v in vectors])
            if weights is None:
                raw_w.append(u)
                raw_u.append(u)
                raw_q.append(u)
                continue
            raw_u.append(u)
            raw_w.append(np.stack([np.bincount(key.key, weights=v * weights, minlength=key.combos) for v in vectors]))
            raw_q.append(
                np.stack([np.bincount(key.key, weights=v * weights * weights, minlength=key.combos) for v in vectors])
            )
    return _Counts(banner, raw_w, raw_u, raw_q)


@dataclass
class _Bases:
    w: np.ndarray  # weighted base per column
    u: np.ndarray  # unweighted
    q: np.ndarray  # sum of squared weights
    row: np.ndarray  # the base as a combination of raw rows [1, slots]

    @property
    def effective(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.q > 0, self.w * self.w / np.where(self.q > 0, self.q, 1), 0.0)


def _pairs(banner: Banner, testable: np.ndarray) -> list[tuple[list[tuple[int, int]], list[bool], bool]]:
    """Per test group: its column pairs, which of them are tested, and whether the group overlaps."""
    result = []
    for group, overlapping in banner.test_groups:
        pairs = list(combinations(group, 2))
        result.append((pairs, [bool(testable[i] and testable[j]) for i, j in pairs], overlapping))
    return result


def _significant_pairs(
    pvalues_of: Callable[[list[tuple[int, int]]], tuple[np.ndarray, np.ndarray]],
    pairs: list[tuple[int, int]],
    tested: list[bool],
    options: TableOptions,
) -> tuple[np.ndarray, np.ndarray]:
    """(statistic, significant) per [row, pair]: the pairwise test, then the correction over the family."""
    statistic, pvalues = pvalues_of(pairs)
    return statistic, significant(pvalues, np.array(tested)[None, :], options.alpha, options.correction)


def _letters_from(
    banner: Banner,
    pvalues_of: Callable[[list[tuple[int, int]]], tuple[np.ndarray, np.ndarray]],
    rows: int,
    testable: np.ndarray,
    options: TableOptions,
) -> list[list[str]]:
    """Letters per [row][column] from a pairwise test (returns the statistic and p-values per row)."""
    letters = [["" for _ in range(banner.width)] for _ in range(rows)]
    all_letters = [""] + letters_for(banner.width - 1)
    for pairs, tested, _ in _pairs(banner, testable):
        if not pairs:
            continue
        statistic, hits = _significant_pairs(pvalues_of, pairs, tested, options)
        for r, k in zip(*np.nonzero(hits), strict=True):
            i, j = pairs[k]
            winner, loser = (i, j) if statistic[r, k] > 0 else (j, i)
            letters[r][winner] += all_letters[loser]
    for row in letters:
        for c in range(len(row)):
            row[c] = "".join(sorted(row[c], key=lambda s: (len(s), s)))
    return letters


def _total_marks(
    banner: Banner,
    pvalues_of: Callable[[list[tuple[int, int]]], tuple[np.ndarray, np.ndarray]],
    rows: int,
    testable: np.ndarray,
    options: TableOptions,
) -> list[list[str]]:
    """▲ / ▼ per [row][column] where a column is significantly above / below Total (compare_total)."""
    marks = [["" for _ in range(banner.width)] for _ in range(rows)]
    if not options.compare_total or banner.width < 2:
        return marks
    pairs = [(0, j) for j in range(1, banner.width)]
    tested = [bool(testable[0] and testable[j]) for _, j in pairs]
    statistic, hits = _significant_pairs(pvalues_of, pairs, tested, options)
    for r, k in zip(*np.nonzero(hits), strict=True):
        marks[r][pairs[k][1]] = "▼" if statistic[r, k] > 0 else "▲"  # statistic is Total minus column
    return marks


def _proportion_letters(
    counts: _Counts, rows: np.ndarray, bases: _Bases, testable: np.ndarray, options: TableOptions
) -> tuple[list[list[str]], list[list[str]]]:
    x = counts.columns("w", rows)

    def test(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Every pair of a group in one vectorised call ([rows, pairs]); overlaps looked up per pair."""
        i, j = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        q_o = np.zeros(len(pairs))
        for k, (a, b) in enumerate(pairs):
            shared = counts.overlap("q", bases.row, a, b)
            q_o[k] = 0.0 if shared is None else float(shared[0])
        return proportion_test(x[:, i], bases.w[i], bases.q[i], x[:, j], bases.w[j], bases.q[j], q_o)

    n = rows.shape[0]
    return (
        _letters_from(counts.banner, test, n, testable, options),
        _total_marks(counts.banner, test, n, testable, options),
    )


def _moments(counts: _Counts, rows_n: np.ndarray, rows_x: np.ndarray, rows_xx: np.ndarray) -> dict[str, np.ndarray]:
    n = counts.columns("w", rows_n)[0]
    sx = counts.columns("w", rows_x)[0]
    sxx = counts.columns("w", rows_xx)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, sx / np.where(n > 0, n, 1), np.nan)
        var = np.where(n > 1, (sxx - n * mean * mean) / np.where(n > 1, n - 1, 1), np.nan)
    return {"n": n, "mean": mean, "sd": np.sqrt(np.clip(var, 0, None)), "q": counts.columns("q", rows_n)[0]}


def _mean_rows(
    counts: _Counts,
    rows_n: np.ndarray,
    rows_x: np.ndarray,
    rows_xx: np.ndarray,
    testable: np.ndarray,
    options: TableOptions,
    median: np.ndarray | None = None,
) -> list[TableRow]:
    language = options.language
    m = _moments(counts, rows_n, rows_x, rows_xx)
    sd = np.nan_to_num(m["sd"])

    def test(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        i, j = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        w_o, q_o, s_o = np.zeros(len(pairs)), np.zeros(len(pairs)), np.zeros(len(pairs))
        for k, (a, b) in enumerate(pairs):
            shared = counts.overlap("w", rows_n, a, b)
            if shared is None or shared[0] <= 1:
                continue
            sx_o = counts.overlap("w", rows_x, a, b)
            sxx_o = counts.overlap("w", rows_xx, a, b)
            q = counts.overlap("q", rows_n, a, b)
            assert sx_o is not None and sxx_o is not None and q is not None
            n_o = shared[0]
            mean_o = sx_o[0] / n_o
            w_o[k], q_o[k] = n_o, q[0]
            s_o[k] = np.sqrt(max((sxx_o[0] - n_o * mean_o * mean_o) / (n_o - 1), 0.0))
        mean, n, q_all = m["mean"], m["n"], m["q"]
        t, p = mean_test(
            mean[i],
            sd[i],
            n[i],
            q_all[i],
            mean[j],
            sd[j],
            n[j],
            q_all[j],
            q_o=q_o,
            s_o=s_o,
            w_o=w_o,
            equal_var=options.equal_variance,
        )
        return np.atleast_2d(t), np.atleast_2d(p)

    letters = _letters_from(counts.banner, test, 1, testable, options)[0]
    marks = _total_marks(counts.banner, test, 1, testable, options)[0]
    width = counts.banner.width
    rows = [TableRow("mean", tr("mean", language), None, None, m["mean"], letters, marks)]
    rows.append(TableRow("sd", tr("sd", language), None, None, m["sd"], [""] * width, [""] * width))
    if median is not None:
        rows.append(TableRow("median", tr("median", language), None, None, median, [""] * width, [""] * width))
    return rows


def _columns_with_bases(banner: Banner, bases: _Bases, options: TableOptions) -> list[BannerColumn]:
    letters = [""] + letters_for(banner.width - 1)
    effective = bases.effective
    columns = []
    for i, (variable, code, label, part) in enumerate(banner.meta):
        columns.append(
            BannerColumn(
                variable,
                code,
                label,
                letters[i],
                float(bases.w[i]),
                int(round(bases.u[i])),
                bool(bases.u[i] < options.small_base),
                float(effective[i]),
                bool(bases.u[i] >= options.min_test_base),
                None if part is None else banner.parts[part].id,
                None if part is None else banner.parts[part].label or banner.parts[part].id,
            )
        )
    return columns


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted 50th percentile: the smallest value whose cumulative weight reaches half (the mean of
    the two middle values when half falls exactly between them, as the unweighted median does)."""
    keep = weights > 0
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    x, w = values[keep][order], weights[keep][order]
    cum = np.cumsum(w)
    half = cum[-1] / 2
    k = int(np.searchsorted(cum, half - 1e-9 * cum[-1]))
    if abs(cum[k] - half) <= 1e-9 * cum[-1] and k + 1 < len(x):
        return float((x[k] + x[k + 1]) / 2)
    return float(x[k])


def _median_from_counts(points: list[int], by_point: np.ndarray) -> np.ndarray:
    """Median per column from a [points, columns] count table (same rule as `_weighted_median`)."""
    x = np.array(points, dtype=np.float64)
    result = np.full(by_point.shape[1], np.nan)
    for c in range(by_point.shape[1]):
        if by_point[:, c].sum() > 0:
            result[c] = _weighted_median(x, by_point[:, c])
    return result


def _base_rule_text(options: TableOptions) -> str:
    return options.rule.describe(options.language)


def _test_text(options: TableOptions, means: bool, proportions: bool = True) -> Phrase:
    """The tests behind the letters, in words (a Phrase: English in files, translated on screen)."""
    parts = [Phrase(N_("column proportions (pooled z)"))] if proportions else []
    if means:
        pooled, welch = Phrase(N_("column means (pooled t)")), Phrase(N_("column means (Welch t)"))
        parts.append(pooled if options.equal_variance else welch)
    text = parts[0]
    for part in parts[1:]:
        text = text + "; " + part
    return text


def banner_tables(
    dataset: Dataset,
    stubs: Sequence[str] | None,
    banner: Sequence[str | BannerSpec],
    options: TableOptions | None = None,
    progress=None,
) -> list[StubTable]:  # type: ignore[no-untyped-def]
    """Every stub against the banner (Total + each column of each banner part), with letters.

    Stubs that name loop questions as written ('l1_fam' rather than 'l1_fam_2') are stacked across the
    loop's iterations (see `analysis.loops`): the base counts iterations asked, and the loop's name is a
    variable (its items) for banners and filters.
    """
    options = options or TableOptions()
    loop = loop_of_stubs(dataset, stubs) if stubs else None
    if loop is not None:
        dataset = stack_loop(dataset, loop)
    for part in banner:
        name = part.variable if isinstance(part, BannerSpec) else part
        if name in dataset.loops and name != loop:
            raise KeyError(f"'{name}' is the items of a loop: only a table of that loop's questions has it")
    data = dataset.filter(options.filter)
    frame = data.frame
    weight = options.weight
    if weight and weight not in frame.columns:
        raise KeyError(f"no weight variable {weight!r} in the data file")
    weights = frame.get_column(weight).cast(pl.Float64).fill_null(0.0).to_numpy() if weight else None
    specs = [b if isinstance(b, BannerSpec) else BannerSpec(id=b, variable=b) for b in banner]
    spec = build_banner(data, frame, specs, options.language, tr("total", options.language))
    stub_specs = _expand(data, list(stubs) if stubs is not None else _default_stubs(data))
    coded = [
        vs[0].name for _, vs in stub_specs if len(vs) == 1 and vs[0].is_coded and frame.schema[vs[0].name].is_numeric()
    ]
    slot_codes = _stub_slots(frame, data, coded)
    frame = frame.with_columns(pl.Series("__key0", spec.keys[0].key))
    tables: list[StubTable] = []
    batch = 8
    for start in range(0, len(stub_specs), batch):
        chunk = stub_specs[start : start + batch]
        index_exprs = []
        for _, variables in chunk:
            v = variables[0]
            if v.name in slot_codes:
                codes = slot_codes[v.name]
                if codes == list(range(codes[0], codes[-1] + 1)):  # a dense run: arithmetic is enough
                    slot = (pl.col(v.name).cast(pl.Int32) - codes[0]).fill_null(len(codes))
                else:  # 1-5 and 98/99: a slot per code, not 99 slots
                    slot = pl.col(v.name).replace_strict(codes, list(range(len(codes))), default=len(codes))
                    slot = slot.cast(pl.Int32).fill_null(len(codes))
                index_exprs.append((slot * spec.keys[0].combos + pl.col("__key0")).alias(v.name))
        indexed = frame.select(index_exprs) if index_exprs else None
        for name, variables in chunk:
            v = variables[0]
            if v.name in slot_codes:
                assert indexed is not None
                index = indexed.get_column(v.name).to_numpy()
                table = _coded_table(data, v, index, slot_codes[v.name], spec, weights, options)
            elif v.type in ("multi", "multi_special"):
                table = _multi_table(data, frame, name, variables, spec, weights, options)
            elif frame.schema[v.name].is_numeric():
                table = _numeric_table(data, frame, v, spec, weights, options)
            else:
                continue
            table.filter, table.weight, table.level = options.filter, weight, options.level
            table.correction, table.bonferroni = options.correction, options.correction == "bonferroni"
            table.overlapping = [p.label or p.id for p in spec.parts if not p.exclusive]
            table.options = options
            if loop is not None:
                table.base_rule += "; " + stacked_base_note(dataset, loop, options.language)
            table.rows = [r for r in table.rows if r.kind != "missing" or (r.counts is not None and r.counts[0] > 0)]
            tables.append(_arrange(table, options))
        if progress is not None:
            progress(min(len(stub_specs), start + batch), len(stub_specs))
    return tables


def _stub_slots(frame: pl.DataFrame, data: Dataset, names: list[str]) -> dict[str, list[int]]:
    """The codes each coded stub is counted by, in slot order (the slot after them holds "no answer").

    A dense run from the smallest to the largest code when that is short (one min/max pass); the codes
    themselves (labelled and found) when the run would be mostly empty, as 1-5 with 98/99 is.
    """
    if not names:
        return {}
    row = frame.select(
        [e for n in names for e in (pl.col(n).min().alias(f"{n}|lo"), pl.col(n).max().alias(f"{n}|hi"))]
    ).row(0, named=True)
    result: dict[str, list[int]] = {}
    sparse: list[str] = []
    for n in names:
        labelled = [int(c) for c in data.variable(n).value_labels]
        found = [int(c) for c in (row[f"{n}|lo"], row[f"{n}|hi"]) if c is not None]
        lo, hi = min(labelled + found), max(labelled + found)
        if hi - lo + 1 <= 2 * len(labelled) + 8:
            result[n] = list(range(lo, hi + 1))
        else:
            sparse.append(n)
    if sparse:
        present = frame.select([pl.col(n).drop_nulls().unique().implode() for n in sparse]).row(0, named=True)
        for n in sparse:
            labelled = {int(c) for c in data.variable(n).value_labels}
            result[n] = sorted(labelled | {int(c) for c in present[n]})
    return result


def _arrange(table: StubTable, options: TableOptions) -> StubTable:
    """Sort code rows by the Total column and hide small ones, as the tab plan asks."""
    if options.sort == "none" and options.hide_below is None:
        return table
    codes = [r for r in table.rows if r.kind == "code"]
    if options.hide_below is not None:
        codes = [r for r in codes if r.counts is not None and r.counts[0] >= options.hide_below]
    if options.sort != "none":
        codes.sort(key=lambda r: r.values[0], reverse=options.sort == "descending")
    rest = [r for r in table.rows if r.kind != "code"]
    return replace(table, rows=codes + rest)


def _coded_table(
    data: Dataset,
    v: Variable,
    index: np.ndarray,
    codes: list[int],
    banner: Banner,
    weights: np.ndarray | None,
    options: TableOptions,
) -> StubTable:
    language, rule = options.language, options.rule
    slots = len(codes) + 1
    slot_of = {code: i for i, code in enumerate(codes)}
    counts = _bincounts(banner, index, slots, None, weights)
    eye = np.eye(slots)
    total_u = counts.columns("u", eye)[:, 0]
    present = [code for i, code in enumerate(codes) if total_u[i] > 0]
    outside = rule.outside_codes(v)
    in_base = [c for c in rule.base_codes(v)] + sorted(
        c for c in present if c not in v.value_labels and c not in outside
    )
    base_row = eye[[slot_of[c] for c in in_base]].sum(axis=0, keepdims=True) if in_base else np.zeros((1, slots))
    bases = _Bases(
        counts.columns("w", base_row)[0], counts.columns("u", base_row)[0], counts.columns("q", base_row)[0], base_row
    )
    columns = _columns_with_bases(banner, bases, options)
    testable = np.array([c.testable for c in columns])

    def row_of(codes: Sequence[int]) -> np.ndarray:
        found = [slot_of[c] for c in codes if c in slot_of]
        return eye[found].sum(axis=0) if found else np.zeros(slots)

    meta: list[tuple[str, str, int | None]] = []
    combos: list[np.ndarray] = []
    for code in in_base:
        meta.append(("code", v.value_label(code, language), code))
        combos.append(row_of([code]))
    for label, codes in {**data_nets(data, v.name), **options.nets.get(v.name, {})}.items():
        meta.append(("net", label, None))
        combos.append(row_of([c for c in codes if c in in_base]))
    points = scale_points(v)
    nps = points == list(range(0, 11))
    if v.type in ("scale", "grid") and 4 <= len(points) <= 7:
        meta += [("top2", tr("top2", language), None), ("bottom2", tr("bottom2", language), None)]
        combos += [row_of(points[-2:]), row_of(points[:2])]
    if nps:
        for kind, codes in (("promoters", [9, 10]), ("passives", [7, 8]), ("detractors", list(range(7)))):
            meta.append((kind, tr(kind, language), None))
            combos.append(row_of(codes))
    rows_matrix = np.stack(combos) if combos else np.zeros((0, slots))
    values_w = counts.columns("w", rows_matrix) if len(combos) else np.zeros((0, banner.width))
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(bases.w > 0, 100.0 * values_w / np.where(bases.w > 0, bases.w, 1), 0.0)
    if len(combos):
        letters, marks = _proportion_letters(counts, rows_matrix, bases, testable, options)
    else:
        letters, marks = [], []
    rows = [
        TableRow(kind, label, code, values_w[i], pct[i], letters[i], marks[i])
        for i, (kind, label, code) in enumerate(meta)
    ]
    if nps:
        promoters, detractors = pct[-3], pct[-1]
        width = banner.width
        rows.append(
            TableRow("nps", tr("nps", language), None, None, promoters - detractors, [""] * width, [""] * width)
        )
    if v.measure in ("ordinal", "scale") and len(points) >= 3:
        x = np.zeros(slots)
        for p in points:
            x[slot_of[p]] = p
        rows_n = row_of(points)[None, :]
        by_point = counts.columns("w", np.stack([row_of([p]) for p in points]))
        rows.extend(
            _mean_rows(
                counts,
                rows_n,
                (rows_n * x),
                (rows_n * x * x),
                testable,
                options,
                median=_median_from_counts(points, by_point),
            )
        )
    shown_outside = [c for c in outside if c in present]
    if shown_outside:
        outside_w = counts.columns("w", np.stack([row_of([c]) for c in shown_outside]))
        rows += _outside_rows(v, shown_outside, outside_w, banner.width, language)
    return StubTable(
        v.name,
        _variable_title(v, language),
        columns,
        rows,
        tr("base", language),
        base_rule=_base_rule_text(options),
        test=_test_text(options, any(r.kind == "mean" for r in rows)),
    )


def _multi_table(
    data: Dataset,
    frame: pl.DataFrame,
    name: str,
    variables: list[Variable],
    banner: Banner,
    weights: np.ndarray | None,
    options: TableOptions,
) -> StubTable:
    language = options.language
    choices, specials = _multi_parts(variables)
    base_flag = frame.select(multi_base_expr(variables).cast(pl.Float64)).to_series().to_numpy()
    chosen = (
        frame.select([(pl.col(v.name) == 1).fill_null(False).cast(pl.Float64) for v in choices]).to_numpy().T
        if choices
        else np.zeros((0, frame.height))
    )
    meta: list[tuple[str, str, int | None]] = [("code", choice_label(v, language), v.choice_code) for v in choices]
    vectors = [*chosen]
    by_code = {v.choice_code: i for i, v in enumerate(choices)}
    for label, codes in {**data_nets(data, name), **options.nets.get(name, {})}.items():
        cols = [by_code[c] for c in codes if c in by_code]
        vectors.append(chosen[cols].max(axis=0) if cols else np.zeros(frame.height))
        meta.append(("net", label, None))
    in_base_rows = len(vectors)
    special_flags = (
        frame.select([(pl.col(v.name) == 1).fill_null(False).cast(pl.Float64) for v in specials]).to_numpy().T
        if specials
        else np.zeros((0, frame.height))
    )
    if options.dk_in_base and len(special_flags):
        base_flag = np.maximum(base_flag, special_flags.max(axis=0))
    for v, flag in zip(specials, special_flags, strict=True):
        vectors.append(flag)
        label = choice_label(v, language)
        meta.append(
            (
                "code" if options.dk_in_base else "missing",
                label if options.dk_in_base else f"{label} ({tr('outside', language)})",
                None,
            )
        )
    vectors.append(base_flag)
    counts = _bincounts(banner, None, 0, np.stack(vectors), weights)
    eye = np.eye(len(vectors))
    base_row = eye[-1:]
    bases = _Bases(
        counts.columns("w", base_row)[0], counts.columns("u", base_row)[0], counts.columns("q", base_row)[0], base_row
    )
    columns = _columns_with_bases(banner, bases, options)
    testable = np.array([c.testable for c in columns])
    tested_rows = in_base_rows + (len(specials) if options.dk_in_base else 0)
    rows_matrix = eye[:tested_rows]
    values_w = counts.columns("w", eye[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(bases.w > 0, 100.0 * values_w / np.where(bases.w > 0, bases.w, 1), 0.0)
    letters, marks = _proportion_letters(counts, rows_matrix, bases, testable, options) if tested_rows else ([], [])
    rows = []
    width = banner.width
    for i, (kind, label, code) in enumerate(meta):
        if i < tested_rows:
            rows.append(TableRow(kind, label, code, values_w[i], pct[i], letters[i], marks[i]))
        else:
            rows.append(TableRow(kind, label, code, values_w[i], np.full(width, np.nan), [""] * width, [""] * width))
    return StubTable(
        name,
        _question_title(variables[0], language),
        columns,
        rows,
        tr("base", language),
        base_rule=_base_rule_text(options),
        test=_test_text(options, False),
    )


def _numeric_table(
    data: Dataset, frame: pl.DataFrame, v: Variable, banner: Banner, weights: np.ndarray | None, options: TableOptions
) -> StubTable:
    language = options.language
    values = frame.select(data.valid(v.name).cast(pl.Float64)).to_series().to_numpy()
    present = ~np.isnan(values)
    x = np.where(present, values, 0.0)
    raw = frame.get_column(v.name).cast(pl.Float64).to_numpy()
    outside_codes = [c for c in v.user_missing if np.any(raw == c)]
    vectors = [present.astype(np.float64), x, x * x, *[(raw == c).astype(np.float64) for c in outside_codes]]
    counts = _bincounts(banner, None, 0, np.stack(vectors), weights)
    eye = np.eye(len(vectors))
    bases = _Bases(
        counts.columns("w", eye[:1])[0], counts.columns("u", eye[:1])[0], counts.columns("q", eye[:1])[0], eye[:1]
    )
    columns = _columns_with_bases(banner, bases, options)
    testable = np.array([c.testable for c in columns])
    w = weights if weights is not None else np.ones(len(x))
    median = np.full(banner.width, np.nan)
    for c in range(banner.width):
        mask = present & _in_column(banner, c)
        if mask.any():
            median[c] = _weighted_median(values[mask], w[mask])
    rows = _mean_rows(counts, eye[0:1], eye[1:2], eye[2:3], testable, options, median=median)
    if outside_codes:
        rows += _outside_rows(v, outside_codes, counts.columns("w", eye[3:]), banner.width, language)
    return StubTable(
        v.name,
        _variable_title(v, language),
        columns,
        rows,
        tr("base", language),
        base_rule=_base_rule_text(options),
        test=_test_text(options, True, proportions=False),
    )


def _outside_rows(v: Variable, codes: list[int], counts: np.ndarray, width: int, language: str) -> list[TableRow]:
    """Don't know / refused / not applicable: counted per column, outside the base (no percentage)."""
    return [
        TableRow(
            "missing",
            f"{v.value_label(code, language)} ({tr('outside', language)})",
            code,
            counts[i],
            np.full(width, np.nan),
            [""] * width,
            [""] * width,
        )
        for i, code in enumerate(codes)
    ]


def _in_column(banner: Banner, column: int) -> np.ndarray:
    for key in banner.keys:
        if column in key.columns:
            return key.membership[:, key.columns.index(column)][key.key] > 0
    raise KeyError(column)


# -- rendering -----------------------------------------------------------------------------------------


def value_text(row: TableRow, index: int) -> str:
    """A cell as printed: the % (or statistic) with its letters; "—" outside the base."""
    value = row.values[index]
    if row.kind in ("mean", "sd", "median"):
        text = "—" if np.isnan(value) else f"{value:.2f}"
    elif row.kind == "nps":
        text = "—" if np.isnan(value) else f"{value:+.1f}"
    elif np.isnan(value):
        text = "—"
    else:
        text = f"{value:.1f}%"
    mark = row.total_marks[index] if row.total_marks else ""
    return f"{text}{mark} {row.letters[index]}".strip()


def base_rows(table: StubTable, language: str) -> list[tuple[str, list[str]]]:
    """The base line(s) of a table: weighted and unweighted when a weight is applied."""
    small = [" *" if c.small else "" for c in table.columns]
    if table.weighted:
        return [
            (tr("base_weighted", language), [f"{c.base:.1f}{s}" for c, s in zip(table.columns, small, strict=True)]),
            (tr("base_unweighted", language), [f"{c.unweighted}" for c in table.columns]),
        ]
    return [(table.base_label, [f"{c.base:.0f}{s}" for c, s in zip(table.columns, small, strict=True)])]


def table_markdown(table: StubTable, language: str = "zh-TW") -> str:
    """One stub as a markdown table: % with letters, counts underneath, bases and the footnote."""
    head = ["", *[f"{c.label} ({c.letter})" if c.letter else c.label for c in table.columns]]
    lines = [f"### {table.title}", ""]
    lines += ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    for label, cells in base_rows(table, language):
        lines.append("| " + " | ".join([f"**{_md(label)}**", *cells]) + " |")
    for row in table.rows:
        cells = [value_text(row, i) for i in range(len(table.columns))]
        lines.append("| " + " | ".join([_md(row.label), *cells]) + " |")
        if row.counts is not None:
            lines.append("| " + " | ".join(["", *[f"{c:.0f}" for c in row.counts]]) + " |")
    return "\n".join([*lines, "", *[f"{line}  " for line in table.footnote(language)], ""])


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def tables_markdown(tables: Sequence[StubTable], title: str, language: str = "zh-TW") -> str:
    return "\n".join([f"# {title}", "", *[table_markdown(t, language) for t in tables]])


CSV_HEADER = [
    "table",
    "stub",
    "row_kind",
    "row_label",
    "row_code",
    "column_variable",
    "column_code",
    "column_label",
    "column_letter",
    "count",
    "value",
    "letters",
    "base",
    "base_unweighted",
    "base_effective",
    "small_base",
    "tested",
]


def tables_csv(tables: Sequence[StubTable]) -> str:
    """Tidy long CSV (one line per cell): easy to pivot in Excel or read into R/pandas."""
    from survey_tui.io.cells import csv_writer

    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_HEADER)
    for table in tables:
        for row in table.rows:
            for i, column in enumerate(table.columns):
                count = "" if row.counts is None else f"{row.counts[i]:.4g}"
                value = "" if np.isnan(row.values[i]) else f"{row.values[i]:.4f}"
                writer.writerow(
                    [
                        table.id or table.stub,
                        table.stub,
                        row.kind,
                        row.label,
                        "" if row.code is None else row.code,
                        column.variable or "",
                        "" if column.code is None else column.code,
                        column.label,
                        column.letter,
                        count,
                        value,
                        row.letters[i],
                        f"{column.base:.4g}",
                        column.unweighted,
                        f"{column.effective:.4g}",
                        int(column.small),
                        int(column.testable),
                    ]
                )
    return out.getvalue()


def write_xlsx(tables: Sequence[StubTable], path: Path, title: str, language: str = "zh-TW") -> None:
    """The tables as a tab book (contents, one sheet per table): see `survey_tui.report.tabbook`."""
    from survey_tui.report.tabbook import write_tab_book

    write_tab_book(tables, path, title, language)


def plan_banners(dataset: Dataset, banners: Sequence[object], wanted: Sequence[str]) -> list[BannerSpec]:
    """Resolve banner names: a variable (or multi question) of the data file, or the id of a plan banner
    (a variable or expression groups, which may overlap)."""
    by_id = {getattr(b, "id", ""): b for b in banners}
    specs: list[BannerSpec] = []
    questions = dataset.questions()
    for name in wanted:
        if name in dataset.variables or name in questions or name in dataset.loops:
            specs.append(BannerSpec(id=name, variable=name))  # a loop's name: its items, in a stacked table
            continue
        banner = by_id.get(name)
        if banner is None:
            raise KeyError(f"no variable or plan banner named {name!r}")
        specs.append(banner_spec_of(banner))
    return specs


def banner_spec_of(banner: object) -> BannerSpec:
    """A plan banner (`core.plan.Banner` or a tab plan banner) as a `BannerSpec`."""
    variable = getattr(banner, "variable", None)
    groups = tuple(GroupSpec(g.label, g.when) for g in getattr(banner, "groups", []) or [])
    label = getattr(banner, "label", "") or ""
    return BannerSpec(id=banner.id, label=label if isinstance(label, str) else "", variable=variable, groups=groups)
