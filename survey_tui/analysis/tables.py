"""Frequencies and banner tables with significance letters (T1.5, P1.5.2 / P1.5.5).

Banner tables put many stubs (rows: one question each) against banner variables (columns: a Total plus
one column per code of each banner variable). Cells hold counts and column percentages; letters mark the
columns a cell is significantly higher than (column-proportion z-test, pooled, two-sided; means use
Welch's t-test), at 95 % by default, 90 or 99 on request, with an optional Bonferroni correction over the
column pairs of each banner variable. p-values come from scipy.

How it is fast: every interview gets one integer *banner key* (its combination of banner codes). Each
stub is counted once against that key (`numpy.bincount` on a polars-built combined index: stub code x
key), and every banner column's counts are then a matrix product of that small count table with a
key->column membership matrix. So 80 stubs x 3 banner variables over a million interviews is 80 passes
over one Int32 column, not 240 cross-tabulations. Means and standard deviations come from the same pass
(sums of weights, x and x^2 per key are additive). Frequencies use one parallel polars select of
``(col == code).sum()`` for all variables at once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from survey_tui.analysis.dataset import Dataset, Variable

SMALL_BASE = 30
LEVELS = (0.90, 0.95, 0.99)
TEXT = {
    "total": {"en": "Total", "zh-TW": "總計"},
    "base": {"en": "Base", "zh-TW": "樣本數"},
    "mean": {"en": "Mean", "zh-TW": "平均數"},
    "sd": {"en": "Std. deviation", "zh-TW": "標準差"},
    "top2": {"en": "Top 2 box", "zh-TW": "前兩項（T2B）"},
    "bottom2": {"en": "Bottom 2 box", "zh-TW": "後兩項（B2B）"},
    "promoters": {"en": "Promoters (9-10)", "zh-TW": "推薦者（9-10）"},
    "passives": {"en": "Passives (7-8)", "zh-TW": "中立者（7-8）"},
    "detractors": {"en": "Detractors (0-6)", "zh-TW": "批評者（0-6）"},
    "nps": {"en": "NPS", "zh-TW": "淨推薦值 NPS"},
    "system_missing": {"en": "Not asked / no answer", "zh-TW": "未問／無回答"},
    "small": {"en": "small base (< 30)", "zh-TW": "樣本數小於 30"},
}


def tr(key: str, language: str) -> str:
    texts = TEXT[key]
    return texts.get(language) or texts["en"]


@dataclass(frozen=True)
class TableOptions:
    """What the researcher chose for a run of tables."""

    level: float = 0.95
    bonferroni: bool = False
    weight: str | None = None
    filter: str | None = None
    language: str = "zh-TW"
    small_base: int = SMALL_BASE
    nets: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # stub -> net label -> codes

    def __post_init__(self) -> None:
        if not any(abs(self.level - level) < 1e-9 for level in LEVELS):
            raise ValueError(f"significance level must be one of 90, 95 or 99 %, not {self.level:.0%}")

    @property
    def alpha(self) -> float:
        return round(1 - self.level, 10)


# -- frequencies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyRow:
    code: int | None
    label: str
    count: float
    percent: float
    valid_percent: float | None  # None for missing rows
    missing: bool = False


@dataclass(frozen=True)
class Frequency:
    variable: str
    title: str
    rows: list[FrequencyRow]
    total: float  # every interview in the (filtered) dataset
    valid: float  # base of the valid %: substantive answers
    multi: bool = False  # rows are choices of a multi question (percent of those answering)

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
            result.append((name, [v for v in questions[name] if v.type == "multi"]))
        elif name in questions and questions[name][0].type == "grid":
            result.extend((v.name, [v]) for v in questions[name])
        elif name in dataset.variables:
            result.append((name, [dataset.variables[name]]))
        else:
            raise KeyError(f"no question or variable named {name!r}")
    return result


def _codes_of(variable: Variable) -> list[int]:
    return list(variable.value_labels)


def _weights(frame: pl.DataFrame, weight: str | None) -> pl.Expr:
    return pl.col(weight).cast(pl.Float64).fill_null(0.0) if weight else pl.lit(1.0)


def frequencies(
    dataset: Dataset, names: Sequence[str] | None = None, options: TableOptions | None = None
) -> list[Frequency]:
    """Counts, % and valid % per code, with bases, for each named question/variable (default: all coded)."""
    options = options or TableOptions()
    language = options.language
    data = dataset.filter(options.filter)
    frame = data.frame
    names = list(names) if names is not None else _default_stubs(data)
    specs = _expand(data, names)
    weighted = options.weight is not None
    w = _weights(frame, options.weight)
    exprs: list[pl.Expr] = []
    plan: list[tuple[str, list[Variable], list[int]]] = []
    schema = frame.schema
    literals: dict[int, pl.Expr] = {}  # one literal per code value, shared by all variables
    known_nonnull: dict[str, int] = {}
    for name, variables in specs:
        if len(variables) > 1 or variables[0].type == "multi":  # multi: one 0/1 column per choice
            for v in variables:
                exprs.append(
                    ((pl.col(v.name) == 1).cast(pl.Float64) * w if weighted else pl.col(v.name) == 1)
                    .sum()
                    .alias(f"{v.name}|1")
                )
            answered = pl.any_horizontal([pl.col(v.name).is_not_null() for v in variables])
            exprs.append((answered.cast(pl.Float64) * w if weighted else answered).sum().alias(f"{name}|answered"))
            plan.append((name, variables, []))
            continue
        v = variables[0]
        codes = _codes_of(v) if schema[v.name].is_numeric() else []
        column = pl.col(v.name)
        for code in codes:
            literal = literals.get(code)
            if literal is None:
                literal = literals[code] = pl.lit(code)
            hit = column == literal
            exprs.append((hit.cast(pl.Float64) * w if weighted else hit).sum().alias(f"{v.name}|{code}"))
        if weighted:
            nonnull = column.is_not_null()
            exprs.append((nonnull.cast(pl.Float64) * w).sum().alias(f"{v.name}|nonnull"))
        else:  # null counts are column metadata: no pass over the data
            known_nonnull[f"{v.name}|nonnull"] = frame.height - frame.get_column(v.name).null_count()
        plan.append((name, variables, codes))
    totals = {**(frame.select(exprs).row(0, named=True) if exprs else {}), **known_nonnull}
    total = float(frame.select(w.sum()).item()) if weighted else float(frame.height)
    result: list[Frequency] = []
    for name, variables, codes in plan:
        first = variables[0]
        if len(variables) > 1 or first.type == "multi":
            answered = float(totals[f"{name}|answered"])
            rows = [
                FrequencyRow(
                    v.choice_code,
                    _choice_label(v, language),
                    float(totals[f"{v.name}|1"]),
                    _pct(float(totals[f"{v.name}|1"]), answered),
                    _pct(float(totals[f"{v.name}|1"]), answered),
                )
                for v in variables
            ]
            rows.append(
                FrequencyRow(
                    None, tr("system_missing", language), total - answered, _pct(total - answered, total), None, True
                )
            )
            result.append(Frequency(name, _question_title(first, language), rows, total, answered, multi=True))
            continue
        counts = {code: float(totals[f"{first.name}|{code}"]) for code in codes}
        nonnull = float(totals[f"{first.name}|nonnull"])
        if sum(counts.values()) + 1e-9 < nonnull:  # codes without a label, or a text/date variable
            counts = _value_counts(frame, first.name, options.weight, counts)
        valid = sum(c for code, c in counts.items() if code not in first.missing_codes)
        rows = []
        for code, count in counts.items():
            missing = code in first.missing_codes
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
    from survey_tui.core.instrument import label_text

    return f"{v.question} {label_text(v.question_label, language, 'en') or v.question}"


def _choice_label(v: Variable, language: str) -> str:
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
    base: float  # weighted
    unweighted: int
    small: bool


@dataclass
class TableRow:
    kind: str  # code | missing | net | top2 | bottom2 | promoters | passives | detractors | nps | mean | sd
    label: str
    code: int | None
    counts: np.ndarray | None  # per column (weighted); None for mean/sd/nps
    values: np.ndarray  # column % (0-100), or the mean / sd / NPS
    letters: list[str]


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


@dataclass
class _Banner:
    columns: list[BannerColumn]
    membership: np.ndarray  # [combos, columns] 0/1
    groups: list[list[int]]  # column indexes per banner variable (for the tests)
    key: np.ndarray  # int32 per interview
    combos: int


def _banner_codes(frame: pl.DataFrame, variable: Variable) -> list[int]:
    labelled = [c for c in variable.value_labels if c not in variable.missing_codes]
    present = frame.get_column(variable.name).drop_nulls().unique().to_list()
    extra = sorted(c for c in present if c not in labelled and c not in variable.missing_codes)
    return labelled + extra


def _build_banner(
    data: Dataset, frame: pl.DataFrame, banner: Sequence[str], weights: np.ndarray | None, options: TableOptions
) -> _Banner:
    language = options.language
    specs: list[tuple[Variable, list[int]]] = []
    for name in banner:
        variable = data.variable(name)
        if variable.type in ("multi", "multi_special") or not frame.schema[name].is_numeric():
            raise ValueError(f"banner variable {name!r} must be single-coded (single, scale or a grid item)")
        specs.append((variable, _banner_codes(frame, variable)))
    strides, combos = [], 1
    for _, codes in reversed(specs):
        strides.insert(0, combos)
        combos *= len(codes) + 1
    if combos > 2**31 - 1:
        raise ValueError("too many banner columns at once; use fewer banner variables")
    parts = [
        pl.col(v.name)
        .replace_strict(codes, list(range(len(codes))), default=len(codes), return_dtype=pl.Int32)
        .fill_null(len(codes))
        * stride
        for (v, codes), stride in zip(specs, strides, strict=True)
    ]
    key_expr = pl.sum_horizontal(parts).cast(pl.Int32) if parts else pl.lit(0, dtype=pl.Int32)
    key = frame.select(key_expr.alias("k")).get_column("k").to_numpy()
    unweighted = np.bincount(key, minlength=combos).astype(np.float64)
    weighted = np.bincount(key, weights=weights, minlength=combos) if weights is not None else unweighted
    combo_ids = np.arange(combos)
    columns_member = [np.ones(combos)]
    meta: list[tuple[str | None, int | None, str]] = [(None, None, tr("total", language))]
    groups: list[list[int]] = []
    for (variable, codes), stride in zip(specs, strides, strict=True):
        digit = (combo_ids // stride) % (len(codes) + 1)
        group = []
        for index, code in enumerate(codes):
            columns_member.append((digit == index).astype(np.float64))
            meta.append((variable.name, code, variable.value_label(code, language)))
            group.append(len(meta) - 1)
        groups.append(group)
    membership = np.stack(columns_member, axis=1)
    bases_w = weighted @ membership
    bases_u = unweighted @ membership
    letters = [""] + letters_for(len(meta) - 1)
    columns = [
        BannerColumn(var, code, label, letters[i], float(bases_w[i]), int(bases_u[i]), bases_u[i] < options.small_base)
        for i, (var, code, label) in enumerate(meta)
    ]
    return _Banner(columns, membership, groups, key, combos)


def _prop_letters(
    counts: np.ndarray, bases: np.ndarray, groups: list[list[int]], options: TableOptions
) -> list[list[str]]:
    """Letters per [row][column]: column i gets column j's letter when p_i > p_j significantly.

    Two-sided z-test of two column proportions with the pooled proportion (as SPSS's "compare column
    proportions" without continuity correction); Bonferroni divides alpha by the pairs in the group.
    """
    rows, cols = counts.shape
    letters = [["" for _ in range(cols)] for _ in range(rows)]
    for group in groups:
        pairs = list(combinations(group, 2))
        if not pairs:
            continue
        alpha = options.alpha / len(pairs) if options.bonferroni else options.alpha
        i_idx = np.array([p[0] for p in pairs])
        j_idx = np.array([p[1] for p in pairs])
        n_i, n_j = bases[i_idx], bases[j_idx]
        x_i, x_j = counts[:, i_idx], counts[:, j_idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            p_i, p_j = x_i / n_i, x_j / n_j
            pooled = (x_i + x_j) / (n_i + n_j)
            se = np.sqrt(pooled * (1 - pooled) * (1 / n_i + 1 / n_j))
            z = (p_i - p_j) / se
        valid = np.isfinite(z) & (se > 0) & (n_i >= 2) & (n_j >= 2)
        pvalues = 2 * stats.norm.sf(np.abs(np.where(valid, z, 0.0)))
        significant = valid & (pvalues < alpha)
        _assign(letters, significant, z > 0, i_idx, j_idx, group)
    return letters


def _assign(
    letters: list[list[str]],
    significant: np.ndarray,
    i_higher: np.ndarray,
    i_idx: np.ndarray,
    j_idx: np.ndarray,
    group: list[int],
) -> None:
    all_letters = letters_for(max(group) + 1) if group else []
    rows, pairs = significant.shape
    for r in range(rows):
        for k in np.nonzero(significant[r])[0]:
            i, j = int(i_idx[k]), int(j_idx[k])
            winner, loser = (i, j) if i_higher[r, k] else (j, i)
            letters[r][winner] += all_letters[loser - 1]
    for row in letters:
        for c in group:
            row[c] = "".join(sorted(row[c], key=lambda s: (len(s), s)))


def _mean_letters(
    n: np.ndarray, mean: np.ndarray, sd: np.ndarray, groups: list[list[int]], options: TableOptions
) -> list[str]:
    """Welch t-tests between the columns of each banner variable (scipy.stats.ttest_ind_from_stats)."""
    letters = [["" for _ in range(len(n))]]
    for group in groups:
        pairs = [(i, j) for i, j in combinations(group, 2) if n[i] >= 2 and n[j] >= 2 and (sd[i] > 0 or sd[j] > 0)]
        if not pairs:
            continue
        all_pairs = len(list(combinations(group, 2)))
        alpha = options.alpha / all_pairs if options.bonferroni else options.alpha
        i_idx = np.array([p[0] for p in pairs])
        j_idx = np.array([p[1] for p in pairs])
        result = stats.ttest_ind_from_stats(
            mean[i_idx], sd[i_idx], n[i_idx], mean[j_idx], sd[j_idx], n[j_idx], equal_var=False
        )
        significant = (np.asarray(result.pvalue) < alpha)[None, :]
        _assign(letters, significant, (np.asarray(result.statistic) > 0)[None, :], i_idx, j_idx, group)
    return letters[0]


def scale_points(variable: Variable) -> list[int]:
    """The contiguous run of codes that forms the scale (1-5, 0-10), leaving 96/97-style extra codes out."""
    codes = sorted(c for c in variable.value_labels if c not in variable.missing_codes)
    if not codes:
        return []
    run = [codes[0]]
    for code in codes[1:]:
        if code != run[-1] + 1:
            break
        run.append(code)
    return run


def _stub_minmax(frame: pl.DataFrame, names: list[str]) -> dict[str, tuple[int, int]]:
    if not names:
        return {}
    row = frame.select(
        [e for n in names for e in (pl.col(n).min().alias(f"{n}|lo"), pl.col(n).max().alias(f"{n}|hi"))]
    ).row(0, named=True)
    return {n: (row[f"{n}|lo"], row[f"{n}|hi"]) for n in names}


def banner_tables(
    dataset: Dataset,
    stubs: Sequence[str] | None,
    banner: Sequence[str],
    options: TableOptions | None = None,
    progress=None,
) -> list[StubTable]:  # type: ignore[no-untyped-def]
    """Every stub against the banner (Total + each code of each banner variable), with letters."""
    options = options or TableOptions()
    data = dataset.filter(options.filter)
    frame = data.frame
    weight = options.weight
    weights = frame.get_column(weight).cast(pl.Float64).fill_null(0.0).to_numpy() if weight else None
    spec = _build_banner(data, frame, banner, weights, options)
    frame = frame.with_columns(pl.Series("__banner_key", spec.key))
    specs = _expand(data, list(stubs) if stubs is not None else _default_stubs(data))
    coded = [
        vs[0].name
        for _, vs in specs
        if len(vs) == 1 and vs[0].type != "multi" and frame.schema[vs[0].name].is_numeric() and vs[0].value_labels
    ]
    ranges = _stub_minmax(frame, coded)
    tables: list[StubTable] = []
    batch = 8
    for start in range(0, len(specs), batch):
        chunk = specs[start : start + batch]
        index_exprs = []
        for _, variables in chunk:
            v = variables[0]
            if v.name in ranges:
                lo, hi = ranges[v.name]
                lo = min([c for c in v.value_labels] + ([lo] if lo is not None else []))
                hi = max([c for c in v.value_labels] + ([hi] if hi is not None else []))
                slots = hi - lo + 2
                index_exprs.append(
                    (
                        (pl.col(v.name).cast(pl.Int32) - lo).fill_null(slots - 1) * spec.combos + pl.col("__banner_key")
                    ).alias(v.name)
                )
        indexed = frame.select(index_exprs) if index_exprs else None
        for name, variables in chunk:
            v = variables[0]
            if v.name in ranges:
                lo = min([c for c in v.value_labels] + ([ranges[v.name][0]] if ranges[v.name][0] is not None else []))
                hi = max([c for c in v.value_labels] + ([ranges[v.name][1]] if ranges[v.name][1] is not None else []))
                assert indexed is not None
                tables.append(
                    _coded_table(data, v, indexed.get_column(v.name).to_numpy(), lo, hi, spec, weights, options)
                )
            elif len(variables) > 1 or v.type == "multi":
                tables.append(_multi_table(data, frame, name, variables, spec, weights, options))
            elif frame.schema[v.name].is_numeric():
                tables.append(_numeric_table(data, frame, v, spec, weights, options))
        if progress is not None:
            progress(min(len(specs), start + batch), len(specs))
    for table in tables:
        table.filter, table.weight, table.level, table.bonferroni = (
            options.filter,
            weight,
            options.level,
            options.bonferroni,
        )
    return tables


def _coded_table(
    data: Dataset,
    v: Variable,
    index: np.ndarray,
    lo: int,
    hi: int,
    spec: _Banner,
    weights: np.ndarray | None,
    options: TableOptions,
) -> StubTable:
    language = options.language
    slots = hi - lo + 2
    raw = np.bincount(index, weights=weights, minlength=slots * spec.combos).reshape(slots, spec.combos)
    raw_u = (
        np.bincount(index, minlength=slots * spec.combos).reshape(slots, spec.combos) if weights is not None else raw
    )
    by_code = raw[:-1] @ spec.membership  # [codes lo..hi, columns]
    by_code_u = raw_u[:-1] @ spec.membership
    bases = by_code.sum(axis=0)
    bases_u = by_code_u.sum(axis=0)
    columns = _with_bases(spec.columns, bases, bases_u, options)
    present = [lo + i for i in range(slots - 1) if by_code_u[i].sum() > 0]
    order = [c for c in v.value_labels if c not in v.missing_codes] + sorted(
        c for c in present if c not in v.value_labels
    )
    order += [c for c in v.missing_codes if c in v.value_labels or c in present]
    rows_counts, rows_meta = [], []
    for code in order:
        rows_counts.append(by_code[code - lo])
        rows_meta.append(("missing" if code in v.missing_codes else "code", v.value_label(code, language), code))
    for label, codes in {**data_nets(data, v.name), **options.nets.get(v.name, {})}.items():
        rows_counts.append(sum((by_code[c - lo] for c in codes if lo <= c <= hi), np.zeros(len(columns))))
        rows_meta.append(("net", label, None))
    points = scale_points(v)
    nps = points == list(range(0, 11))
    if v.type in ("scale", "grid") and 4 <= len(points) <= 7:
        rows_counts.append(by_code[points[-1] - lo] + by_code[points[-2] - lo])
        rows_meta.append(("top2", tr("top2", language), None))
        rows_counts.append(by_code[points[0] - lo] + by_code[points[1] - lo])
        rows_meta.append(("bottom2", tr("bottom2", language), None))
    if nps:
        for kind, codes in (("promoters", [9, 10]), ("passives", [7, 8]), ("detractors", list(range(7)))):
            rows_counts.append(sum(by_code[c - lo] for c in codes))
            rows_meta.append((kind, tr(kind, language), None))
    counts = np.array(rows_counts) if rows_counts else np.zeros((0, len(columns)))
    rows = _percent_rows(counts, rows_meta, bases, spec, options)
    if nps:
        promoters, detractors = rows[-3].values, rows[-1].values
        rows.append(TableRow("nps", tr("nps", language), None, None, promoters - detractors, [""] * len(columns)))
    if v.measure in ("ordinal", "scale") and len(points) >= 3:
        rows.extend(_mean_rows(by_code, by_code_u, lo, points, spec, options))
    return StubTable(v.name, _variable_title(v, language), columns, rows, tr("base", language))


def data_nets(data: Dataset, name: str) -> dict[str, list[int]]:
    """Nets that travel with the data (e.g. a code frame's nets for a coded open end)."""
    return data.nets.get(name, {})


def _with_bases(
    columns: list[BannerColumn], bases: np.ndarray, bases_u: np.ndarray, options: TableOptions
) -> list[BannerColumn]:
    return [
        BannerColumn(
            c.variable,
            c.code,
            c.label,
            c.letter,
            float(bases[i]),
            int(round(bases_u[i])),
            bases_u[i] < options.small_base,
        )
        for i, c in enumerate(columns)
    ]


def _percent_rows(
    counts: np.ndarray, meta: list[tuple[str, str, int | None]], bases: np.ndarray, spec: _Banner, options: TableOptions
) -> list[TableRow]:
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(bases > 0, 100.0 * counts / np.where(bases > 0, bases, 1), 0.0)
    letters = _prop_letters(counts, bases, spec.groups, options) if len(counts) else []
    return [TableRow(kind, label, code, counts[i], pct[i], letters[i]) for i, (kind, label, code) in enumerate(meta)]


def _mean_rows(
    by_code: np.ndarray, by_code_u: np.ndarray, lo: int, points: list[int], spec: _Banner, options: TableOptions
) -> list[TableRow]:
    idx = np.array([p - lo for p in points])
    x = np.array(points, dtype=np.float64)[:, None]
    w = by_code[idx]
    n = w.sum(axis=0)
    n_u = by_code_u[idx].sum(axis=0)
    return _stat_rows(n, (w * x).sum(axis=0), (w * x * x).sum(axis=0), n_u, spec, options)


def _stat_rows(
    n: np.ndarray, sx: np.ndarray, sxx: np.ndarray, n_u: np.ndarray, spec: _Banner, options: TableOptions
) -> list[TableRow]:
    language = options.language
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, sx / np.where(n > 0, n, 1), np.nan)
        var = np.where(n > 1, (sxx - n * mean * mean) / np.where(n > 1, n - 1, 1), np.nan)
    sd = np.sqrt(np.clip(var, 0, None))
    letters = _mean_letters(n_u if not np.allclose(n, n_u) else n, mean, np.nan_to_num(sd), spec.groups, options)
    return [
        TableRow("mean", tr("mean", language), None, None, mean, letters),
        TableRow("sd", tr("sd", language), None, None, sd, [""] * len(mean)),
    ]


def _multi_table(
    data: Dataset,
    frame: pl.DataFrame,
    name: str,
    variables: list[Variable],
    spec: _Banner,
    weights: np.ndarray | None,
    options: TableOptions,
) -> StubTable:
    language = options.language
    choice_vars = [v for v in variables if v.type == "multi"]
    answered = (
        frame.select(pl.any_horizontal([pl.col(v.name).is_not_null() for v in choice_vars]).cast(pl.Float64))
        .to_series()
        .to_numpy()
    )
    w = weights if weights is not None else 1.0
    per_combo_base = np.bincount(spec.key, weights=answered * w, minlength=spec.combos)
    per_combo_base_u = np.bincount(spec.key, weights=answered, minlength=spec.combos)
    bases = per_combo_base @ spec.membership
    bases_u = per_combo_base_u @ spec.membership
    columns = _with_bases(spec.columns, bases, bases_u, options)
    chosen = frame.select([(pl.col(v.name) == 1).fill_null(False).cast(pl.Float64) for v in choice_vars]).to_numpy()
    counts, meta = [], []
    for i, v in enumerate(choice_vars):
        counts.append(np.bincount(spec.key, weights=chosen[:, i] * w, minlength=spec.combos) @ spec.membership)
        meta.append(("code", _choice_label(v, language), v.choice_code))
    by_code = {v.choice_code: i for i, v in enumerate(choice_vars)}
    for label, codes in {**data_nets(data, name), **options.nets.get(name, {})}.items():
        cols = [by_code[c] for c in codes if c in by_code]
        anyof = chosen[:, cols].max(axis=1) if cols else np.zeros(len(chosen))
        counts.append(np.bincount(spec.key, weights=anyof * w, minlength=spec.combos) @ spec.membership)
        meta.append(("net", label, None))
    rows = _percent_rows(np.array(counts), meta, bases, spec, options)
    return StubTable(name, _question_title(choice_vars[0], language), columns, rows, tr("base", language))


def _numeric_table(
    data: Dataset, frame: pl.DataFrame, v: Variable, spec: _Banner, weights: np.ndarray | None, options: TableOptions
) -> StubTable:
    values = frame.select(data.valid(v.name).cast(pl.Float64)).to_series().to_numpy()
    present = ~np.isnan(values)
    x = np.where(present, values, 0.0)
    w = (weights if weights is not None else np.ones(len(x))) * present
    n = np.bincount(spec.key, weights=w, minlength=spec.combos) @ spec.membership
    n_u = np.bincount(spec.key, weights=present.astype(np.float64), minlength=spec.combos) @ spec.membership
    sx = np.bincount(spec.key, weights=w * x, minlength=spec.combos) @ spec.membership
    sxx = np.bincount(spec.key, weights=w * x * x, minlength=spec.combos) @ spec.membership
    columns = _with_bases(spec.columns, n, n_u, options)
    rows = _stat_rows(n, sx, sxx, n_u, spec, options)
    return StubTable(v.name, _variable_title(v, options.language), columns, rows, tr("base", options.language))


# -- rendering -----------------------------------------------------------------------------------------


def _value_text(row: TableRow, index: int) -> str:
    value = row.values[index]
    if row.kind in ("mean", "sd"):
        text = "—" if np.isnan(value) else f"{value:.2f}"
    elif row.kind == "nps":
        text = f"{value:+.1f}"
    else:
        text = f"{value:.1f}%"
    letters = row.letters[index]
    return f"{text} {letters}".strip()


def table_markdown(table: StubTable, language: str = "zh-TW") -> str:
    """One stub as a markdown table: % with letters, counts underneath, bases and small-base marks."""
    head = ["", *[f"{c.label} ({c.letter})" if c.letter else c.label for c in table.columns]]
    lines = [f"### {table.title}", ""]
    if table.filter:
        lines += [f"Filter: `{table.filter}`", ""]
    lines += ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    bases = [f"{c.base:.0f}{' *' if c.small else ''}" for c in table.columns]
    lines.append("| " + " | ".join([f"**{table.base_label}**", *bases]) + " |")
    for row in table.rows:
        cells = [_value_text(row, i) for i in range(len(table.columns))]
        lines.append("| " + " | ".join([_md(row.label), *cells]) + " |")
        if row.counts is not None:
            lines.append("| " + " | ".join(["", *[f"{c:.0f}" for c in row.counts]]) + " |")
    notes = [
        f"Letters: column is higher than the lettered column at {table.level:.0%}"
        + (" (Bonferroni)" if table.bonferroni else "")
        + "."
    ]
    if any(c.small for c in table.columns):
        notes.append(f"* {tr('small', language)}")
    return "\n".join([*lines, "", *notes, ""])


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def tables_markdown(tables: Sequence[StubTable], title: str, language: str = "zh-TW") -> str:
    return "\n".join([f"# {title}", "", *[table_markdown(t, language) for t in tables]])


CSV_HEADER = [
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
    "small_base",
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
                        int(column.small),
                    ]
                )
    return out.getvalue()


def write_xlsx(tables: Sequence[StubTable], path: Path, title: str) -> None:
    """All stubs on one sheet, each with its banner header, % with letters and counts."""
    import xlsxwriter

    tmp = path.with_name(path.name + ".tmp")
    from survey_tui.io.cells import XLSX_OPTIONS

    book = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)
    try:
        sheet = book.add_worksheet("Tables")
        bold = book.add_format({"bold": True})
        pct = book.add_format({"num_format": "0.0"})
        small = book.add_format({"font_color": "#C00000"})
        sheet.write(0, 0, title, bold)
        r = 2
        for table in tables:
            sheet.write(r, 0, table.title, bold)
            r += 1
            for i, c in enumerate(table.columns):
                sheet.write(r, 1 + 2 * i, f"{c.label} ({c.letter})" if c.letter else c.label, bold)
            r += 1
            sheet.write(r, 0, table.base_label, bold)
            for i, c in enumerate(table.columns):
                sheet.write_number(r, 1 + 2 * i, round(c.base, 2), small if c.small else None)
            r += 1
            for row in table.rows:
                sheet.write(r, 0, row.label)
                for i in range(len(table.columns)):
                    value = row.values[i]
                    if not np.isnan(value):
                        sheet.write_number(r, 1 + 2 * i, float(value), pct)
                    if row.letters[i]:
                        sheet.write(r, 2 + 2 * i, row.letters[i])
                r += 1
                if row.counts is not None:
                    for i in range(len(table.columns)):
                        sheet.write_number(r, 1 + 2 * i, float(row.counts[i]))
                    r += 1
            r += 1
        sheet.set_column(0, 0, 36)
    finally:
        book.close()
    tmp.replace(path)


def add_group_banner(dataset: Dataset, name: str, label: str, groups: Sequence[tuple[str, str]]) -> Dataset:
    """A banner variable from expression-defined groups (a plan banner such as age bands): code i+1 for
    the first group whose expression holds, null for none."""
    from survey_tui.core.expressions import parse_expression

    resolver = dataset.resolver()
    expr: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for index, (_, when) in reversed(list(enumerate(groups))):
        condition = parse_expression(when).to_polars_bool(resolver).fill_null(False)
        expr = pl.when(condition).then(pl.lit(index + 1, dtype=pl.Int32)).otherwise(expr)
    column = dataset.frame.select(pl.col("interview_id"), expr.alias(name))
    variable = Variable(
        name=name,
        question=name,
        type="single",
        measure="nominal",
        label={"*": label},
        value_labels={i + 1: {"*": text} for i, (text, _) in enumerate(groups)},
    )
    return dataset.with_columns(column, [variable])


def plan_banners(dataset: Dataset, banners: Sequence[object], wanted: Sequence[str]) -> tuple[Dataset, list[str]]:
    """Resolve banner names: a variable of the data file, or the id of a plan banner (variable or groups)."""
    by_id = {getattr(b, "id", ""): b for b in banners}
    names: list[str] = []
    for name in wanted:
        if name in dataset.variables:
            names.append(name)
            continue
        banner = by_id.get(name)
        if banner is None:
            raise KeyError(f"no variable or plan banner named {name!r}")
        variable = getattr(banner, "variable", None)
        if variable:
            names.append(variable)
            continue
        groups = [(g.label, g.when) for g in getattr(banner, "groups", [])]
        column = f"banner_{name}"
        dataset = add_group_banner(dataset, column, getattr(banner, "label", "") or name, groups)
        names.append(column)
    return dataset, names
