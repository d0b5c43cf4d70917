"""RIM weighting (raking) to the targets in `study.yaml`, its report, and the weight in the data file.

The raking is weightipy's RIM algorithm (the algorithm of the market-research tabulation packages), run
here on numpy arrays step for step (`rake`; a test checks it against weightipy itself to 1e-9): each
iteration scales the weights so that every dimension's weighted shares hit their targets in turn, until
the weights stop changing or `max_iterations` is reached. Weights average 1 over the weighted sample, so
the weighted base equals the number of interviews; caps bound the weights on that scale. Whether the
targets were *reached* is decided here, not by weightipy's relative-change rule: converged means every
achieved share is within `tolerance` percentage points of its target.

Which interviews are weighted
-----------------------------
Weights are computed on the data file's default selection: field interviews, completed, with the
quality review's exclusions removed, every published version stacked. A data set loaded another way
(with pilots, with excluded interviews kept, one version only) gets those same weights joined by
interview id, and null for interviews outside the weighted sample, so an interview's weight never
depends on how the file was read. Weights change only when the weighted sample or the targets change
(a new interview, an exclusion); re-export after either.

Checks
------
`core.weighting.check_weighting` checks what the questionnaire can tell (unknown variables, codes it
does not have, targets not summing to 100 %); `data_problems` here checks what only the data can (a
dimension the data lacks, a cell with no interview, interviews no cell holds or two groups both hold).
Either raises `LoadError` with located messages before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from survey_tui.analysis.significance import effective_base
from survey_tui.core.instrument.expressions import ExpressionError, WideFrameResolver, parse_expression
from survey_tui.core.plan.model import STUDY_FILE, _Locator
from survey_tui.core.plan.weighting import WeightCaps, WeightDimension, WeightingConfig, check_weighting
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import read_yaml
from survey_tui.i18n import N_, _

if TYPE_CHECKING:
    from survey_tui.analysis.dataset import Dataset
    from survey_tui.core.store.sqlite import Store
    from survey_tui.core.study import Study
    from survey_tui.core.yamlfile import YamlDocument

WEIGHT_LABEL = {"zh-TW": "權數", "en": "Weight"}
SELECTION = N_("field interviews, completed, quality-review exclusions removed")
NO_TARGETS = Problem(
    STUDY_FILE,
    "the study has no weighting targets",
    hint="add a weighting: section with dimensions and targets (see core/plan/weighting.py for the shape)",
)


# -- the numbers the table engine needs ---------------------------------------------------------------


def weighting_efficiency(weights: np.ndarray) -> float:
    """n_eff / n in percent: 100 when every weight is equal, lower the more the weights vary."""
    w = np.asarray(weights, dtype=np.float64)
    n = int(np.isfinite(w).sum())
    return 100.0 * effective_base(w) / n if n else 0.0


# -- raking -------------------------------------------------------------------------------------------


def rake(
    cells: Sequence[np.ndarray],
    targets: Sequence[Sequence[float]],
    *,
    max_iterations: int = 50,
    cap: WeightCaps | None = None,
) -> tuple[np.ndarray, int]:
    """Rake: `cells[d]` is every row's 0-based cell in dimension d, `targets[d][k]` the percent of cell k.
    Returns the weights (mean 1, in row order) and the iteration count.

    This is weightipy's RIM loop (its `Rake.start`, 0.4) step for step, on numpy arrays: the same
    operations in the same order, so the weights agree with weightipy's to rounding (a test checks
    1e-9 against weightipy itself) and the iteration count is the same. Running it here rather than
    through weightipy spares every weighted build importing pandas and pyarrow (0.4-0.5 s and ~67 MB at
    100,000 interviews) and a copy of the cells into a pandas frame.

    Each iteration scales every cell of every dimension in turn to its target total, then applies the
    caps (clip, rescale to mean 1, until the caps hold; like weightipy a cap is widened by 1e-4). It
    goes on while the weights still change less each time (weightipy's rule with a zero convergence
    criterion) or up to `max_iterations`; `weigh_frame` judges the result against the tolerance.
    """
    n = len(cells[0]) if cells else 0
    weights = np.ones(n, dtype=np.float64)
    if n == 0:
        return weights, 0
    # absolute targets as weightipy computes them: shares normalised to 100, then share / 100 * rows
    plan: list[list[tuple[np.ndarray, float]]] = []
    for dim_cells, shares in zip(cells, targets, strict=True):
        total = sum(float(s) for s in shares)
        column = np.asarray(dim_cells)
        steps = []
        for k, share in enumerate(shares):
            goal = float(share) / total * 100 / 100 * n
            steps.append((np.flatnonzero(column == k), goal if goal != 0.0 else 0.00000001))
        plan.append(steps)
    min_cap = cap.min - 0.0001 if cap is not None and cap.min is not None else None
    max_cap = (cap.max if cap is not None and cap.max is not None else math.inf) + 0.0001
    capped = cap is not None
    diff, diff_old = 999999.0, 99999999999.0
    iterations = 0
    for iteration in range(1, max_iterations + 1):
        iterations = iteration  # weightipy counts the pass that finds no more change
        old = weights.copy()
        if not diff < diff_old:
            break
        for steps in plan:
            for rows, goal in steps:
                if rows.shape[0]:
                    weights[rows] *= goal / weights[rows].sum()
        if capped:
            while (min_cap is not None and weights.min() < min_cap) or weights.max() > max_cap:
                if min_cap is not None:
                    weights[weights < min_cap] = min_cap
                weights[weights > max_cap] = max_cap
                weights = weights / np.mean(weights)
        diff_old = diff
        diff = float(np.sum(np.abs(weights - old)))
    weights[weights == 0.0] = 1.0  # weightipy reads a zero weight as none (1)
    return weights, iterations


# -- the report ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellResult:
    """One cell of a dimension: its target and what the sample had before and after weighting."""

    dimension: str
    label: str
    target: float  # percent
    count: int  # interviews in the cell
    sample: float  # unweighted percent
    achieved: float  # weighted percent
    code: int | None = None

    @property
    def gap(self) -> float:
        """Achieved minus target, in percentage points."""
        return self.achieved - self.target


@dataclass
class WeightingReport:
    """Targets against achieved shares per cell, and how much the weighting costs in precision."""

    name: str
    n: int
    cells: list[CellResult]
    effective_base: float
    efficiency: float  # percent
    min_weight: float
    max_weight: float
    iterations: int
    max_iterations: int
    converged: bool
    tolerance: float
    max_gap: float  # percentage points, the largest |achieved - target|
    cap: tuple[float | None, float | None] | None = None
    selection: str = SELECTION

    def markdown(self, title: str = "") -> str:
        lines = [f"# Weighting report: {self.name}" + (f" ({title})" if title else ""), ""]
        verdict = "yes" if self.converged else "NO"
        cap = "none"
        if self.cap is not None:
            low, high = self.cap
            cap = f"min {low:g}" if low is not None else ""
            cap += (", " if cap else "") + (f"max {high:g}" if high is not None else "")
        lines += [
            f"- Weighted sample: {self.n} interviews ({self.selection})",
            f"- Converged: {verdict}: largest gap {self.max_gap:.2g} percentage points "
            f"(tolerance {self.tolerance:g}), after {self.iterations} iteration(s) of at most {self.max_iterations}",
            f"- Weighting efficiency: {self.efficiency:.1f} %",
            f"- Effective base (Kish, (Σw)²/Σw²): {self.effective_base:.1f} of {self.n}",
            f"- Weights: min {self.min_weight:.4f}, max {self.max_weight:.4f} (they average 1); caps: {cap}",
            "",
        ]
        for dimension in dict.fromkeys(c.dimension for c in self.cells):
            lines += [
                f"## {dimension}",
                "",
                "| Cell | n | Sample % | Target % | Weighted % | Gap (points) |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for c in (c for c in self.cells if c.dimension == dimension):
                label = c.label.replace("|", "/")
                lines.append(
                    f"| {label} | {c.count} | {c.sample:.1f} | {c.target:.1f} | {c.achieved:.1f} | {c.gap:+.1e} |"
                )
            lines.append("")
        return "\n".join(lines)


@dataclass
class WeightingResult:
    """The weights in the frame's row order, and the report."""

    weights: np.ndarray
    report: WeightingReport
    interview_ids: np.ndarray | None = None


# -- from a frame: cells, checks, raking, report ------------------------------------------------------


def _dimension_cells(
    frame: pl.DataFrame,
    dim: WeightDimension,
    path: list[str | int],
    at: _Locator,
    resolver: WideFrameResolver | None,
) -> tuple[np.ndarray | None, list[Problem]]:
    """Every row's 0-based cell in this dimension, or the problems that make it impossible."""
    problems: list[Problem] = []
    n = frame.height
    if dim.variable:
        name = dim.variable
        if name not in frame.columns:
            return None, [
                at.problem(
                    [*path, "variable"],
                    _("the data file has no variable '{name}', so it cannot be weighted on it").format(name=name),
                    hint=_("is the question in a published version of the questionnaire?"),
                )
            ]
        if frame.get_column(name).null_count() == n:
            return None, [
                at.problem(
                    [*path, "variable"],
                    _("no interview of the weighted sample has an answer to {name}").format(name=name),
                    hint=_("weight on a question every respondent is asked (a screener)"),
                )
            ]
        codes = list(dim.targets)
        column = frame.get_column(name)
        fast = _cells_by_lookup(column, codes)
        if fast is not None:
            return _empty_codes(fast, codes, name, path, at)
        mapped = frame.select(
            pl.col(name).cast(pl.Int64, strict=False).replace_strict(codes, list(range(len(codes))), default=None)
        ).to_series()
        if mapped.null_count():
            stray = (
                frame.filter(mapped.is_null()).group_by(name).len().sort(name, nulls_last=True).iter_rows()
            )  # (code or None, count)
            for code, count in stray:
                if code is None:
                    message = _(
                        "{count} interview(s) have no answer to {name}, so no cell of '{title}' holds them"
                    ).format(count=count, name=name, title=dim.title)
                    hint = _("give them a cell with groups: (e.g. when: s3 = 1 ... and a group for the rest)")
                else:
                    message = _("{count} interview(s) have {name} = {code}, which has no target").format(
                        count=count, name=name, code=code
                    )
                    hint = _("add a target for code {code}, or merge it into a cell with groups:").format(code=code)
                problems.append(at.problem([*path, "targets"], message, hint=hint))
            return None, problems
        return _empty_codes(mapped.to_numpy().astype(np.int64, copy=False), codes, name, path, at)

    members = []
    for j, group in enumerate(dim.groups):
        try:
            expr = parse_expression(group.when).to_polars_bool(resolver or WideFrameResolver(schema=frame.schema))
            hit = frame.select(expr.alias("hit")).to_series().fill_null(False).to_numpy()
        except (ExpressionError, pl.exceptions.PolarsError) as exc:
            message = _("expression '{text}': {error}").format(text=group.when, error=exc)
            problems.append(at.problem([*path, "groups", j, "when"], message))
            continue
        if not hit.any():
            problems.append(
                at.problem(
                    [*path, "groups", j, "when"],
                    _("group '{label}' ({when}) holds no interview of the weighted sample").format(
                        label=group.label, when=group.when
                    ),
                    hint=_("an empty cell cannot be weighted up: merge it with a neighbouring group"),
                )
            )
        members.append(hit)
    if problems:
        return None, problems
    matrix = np.column_stack(members)
    held = matrix.sum(axis=1)
    if (held == 0).any():
        problems.append(
            at.problem(
                [*path, "groups"],
                _("{count} interview(s) fall in no group of '{title}'").format(
                    count=int((held == 0).sum()), title=dim.title
                ),
                hint=_("the groups must cover every interview: add a group for the rest"),
            )
        )
    if (held > 1).any():
        row = int(np.argmax(held > 1))
        both = [dim.groups[j].label for j in np.flatnonzero(matrix[row])]
        problems.append(
            at.problem(
                [*path, "groups"],
                _("{count} interview(s) fall in two or more groups of '{title}' (e.g. {groups})").format(
                    count=int((held > 1).sum()), title=dim.title, groups=" and ".join(repr(b) for b in both)
                ),
                hint=_("raking needs each interview in exactly one cell: make the conditions exclusive"),
            )
        )
    if problems:
        return None, problems
    return np.argmax(matrix, axis=1).astype(np.int64), []


def _cells_by_lookup(column: pl.Series, codes: list[int]) -> np.ndarray | None:
    """Cells through a lookup table when every value is a small code with a target (the usual case, fast);
    None sends the column to the general path, which also names the stray values."""
    if column.null_count() or not column.dtype.is_integer() or min(codes) < 0:
        return None
    values = column.to_numpy()
    top = max(codes)
    if top > 1_000_000 or values.min() < 0 or values.max() > top:
        return None
    lookup = np.full(top + 1, -1, dtype=np.int64)
    lookup[codes] = np.arange(len(codes))
    cells = lookup[values]
    return None if (cells < 0).any() else cells


def _empty_codes(
    cells: np.ndarray, codes: list[int], name: str, path: list[str | int], at: _Locator
) -> tuple[np.ndarray | None, list[Problem]]:
    """The cells, or a problem for every code with a target that no interview has."""
    counts = np.bincount(cells, minlength=len(codes))
    problems = [
        at.problem(
            [*path, "targets", code],
            _("code {code} of {name} has a target but no interview in the weighted sample").format(
                code=code, name=name
            ),
            hint=_("an empty cell cannot be weighted up: merge it with another using groups:, or drop its target"),
        )
        for code, count in zip(codes, counts, strict=True)
        if count == 0
    ]
    return (None if problems else cells), problems


def data_problems(
    frame: pl.DataFrame,
    config: WeightingConfig,
    resolver: WideFrameResolver | None = None,
    doc: YamlDocument | None = None,
    file: str = STUDY_FILE,
) -> tuple[list[np.ndarray], list[Problem]]:
    """Every dimension's cells, and every problem only the data can show (located in `doc`)."""
    at = _Locator(doc, file)
    if frame.height == 0:
        empty = _("no interviews to weight ({selection})").format(selection=_(SELECTION))
        return [], [at.problem(["weighting"], empty)]
    all_cells: list[np.ndarray] = []
    problems: list[Problem] = []
    for i, dim in enumerate(config.dimensions):
        cells, found = _dimension_cells(frame, dim, ["weighting", "dimensions", i], at, resolver)
        problems += found
        if cells is not None:
            all_cells.append(cells)
    return all_cells, problems


def weigh_frame(
    frame: pl.DataFrame,
    config: WeightingConfig,
    resolver: WideFrameResolver | None = None,
    *,
    doc: YamlDocument | None = None,
    labels: dict[str, dict[int, str]] | None = None,
) -> WeightingResult:
    """Rake the rows of `frame` to `config`'s targets; raises LoadError (nothing computed) on bad targets.

    `labels` gives the value labels of variable dimensions for the report (variable -> code -> text).
    """
    cells, problems = data_problems(frame, config, resolver, doc)
    if problems:
        raise LoadError(problems)
    targets = [[share for _, share in dim.cell_targets()] for dim in config.dimensions]
    weights, iterations = rake(cells, targets, max_iterations=config.max_iterations, cap=config.cap)
    total = float(weights.sum())
    results: list[CellResult] = []
    for dim, dim_cells, shares in zip(config.dimensions, cells, targets, strict=True):
        achieved = np.bincount(dim_cells, weights=weights, minlength=len(shares)) / total * 100
        counts = np.bincount(dim_cells, minlength=len(shares))
        codes: list[int | None] = list(dim.targets) if dim.variable else [None] * len(shares)
        for k, (cell, share) in enumerate(dim.cell_targets()):
            code = codes[k]
            label = cell
            if code is not None and labels and dim.variable in labels and code in labels[dim.variable]:
                label = f"{code} {labels[dim.variable][code]}"
            results.append(
                CellResult(
                    dim.title,
                    label,
                    share,
                    int(counts[k]),
                    float(counts[k] / frame.height * 100),
                    float(achieved[k]),
                    code,
                )
            )
    max_gap = max(abs(c.gap) for c in results)
    report = WeightingReport(
        name=config.name,
        n=frame.height,
        cells=results,
        effective_base=effective_base(weights),
        efficiency=weighting_efficiency(weights),
        min_weight=float(weights.min()),
        max_weight=float(weights.max()),
        iterations=iterations,
        max_iterations=config.max_iterations,
        converged=bool(max_gap <= config.tolerance),
        tolerance=config.tolerance,
        max_gap=max_gap,
        cap=(config.cap.min, config.cap.max) if config.cap else None,
    )
    ids = frame.get_column("interview_id").to_numpy() if "interview_id" in frame.columns else None
    return WeightingResult(weights, report, ids)


# -- a study's data set -------------------------------------------------------------------------------


def _study_doc(study: Study) -> YamlDocument | None:
    doc, _ = read_yaml(study.study_file, STUDY_FILE)
    return doc


def weigh_dataset(study: Study, dataset: Dataset, language: str | None = None) -> WeightingResult:
    """Rake a data set (the default selection, see the module docstring) to the study's targets."""
    config = study.config.weighting
    if config is None:
        raise LoadError([NO_TARGETS])
    doc = _study_doc(study)
    errors = [p for p in check_weighting(config, [dataset.instrument], doc) if p.severity == "error"]
    if errors:
        raise LoadError(errors)
    language = language or study.config.language
    labels = {
        dim.variable: {code: dataset.variables[dim.variable].value_label(code, language) for code in dim.targets}
        for dim in config.dimensions
        if dim.variable and dim.variable in dataset.variables
    }
    return weigh_frame(dataset.frame, config, dataset.resolver(), doc=doc, labels=labels)


def weighting_problems(study: Study) -> list[Problem]:
    """What only the data can tell about the targets (for `survey-tui check`); [] without data yet."""
    from survey_tui.analysis.dataset import load_dataset

    config = study.config.weighting
    if config is None:
        return []
    try:
        dataset = load_dataset(study, include_coded=False, weighting=False)
    except (LoadError, ValueError):
        return []  # the questionnaire's own problems are reported by the rest of check
    if dataset.n == 0:
        return []
    _, problems = data_problems(dataset.frame, config, dataset.resolver(), _study_doc(study))
    return problems


def weight_variable(config: WeightingConfig):  # type: ignore[no-untyped-def]
    """The weight as a data-file variable: a scale measure, labelled in both languages."""
    from survey_tui.analysis.dataset import Variable

    return Variable(name=config.name, question=config.name, type="weight", measure="scale", label=dict(WEIGHT_LABEL))


def attach_weight(study: Study, dataset: Dataset, *, standard: bool, store: Store | None = None) -> Dataset:
    """The data set with the study's weight joined as a variable (unchanged when none is configured).

    `standard` says the data set is the default selection, so it is weighted as it is; otherwise the
    default selection is read and weighted, and its weights joined by interview id.
    """
    from survey_tui.analysis.dataset import load_dataset

    config = study.config.weighting
    if config is None:
        return dataset
    if config.name in dataset.frame.columns:
        raise LoadError(
            [
                _Locator(_study_doc(study), STUDY_FILE).problem(
                    ["weighting", "name"],
                    _("the weight would be called '{name}', which the data file already has").format(name=config.name),
                    hint=_("choose another name, e.g. 'rim_weight'"),
                )
            ]
        )
    base = (
        dataset
        if standard
        else load_dataset(study, dataset.instrument.id, store=store, include_coded=False, weighting=False)
    )
    if base.n == 0:
        column = pl.DataFrame(schema={"interview_id": pl.Int64, config.name: pl.Float64})
    else:
        result = weigh_dataset(study, base)
        column = pl.DataFrame(
            {"interview_id": base.frame.get_column("interview_id"), config.name: pl.Series(result.weights)}
        )
    if standard and base.n:
        frame = dataset.frame.with_columns(column.get_column(config.name))
        weighted = replace(dataset, frame=frame, variables={**dataset.variables, config.name: weight_variable(config)})
    else:
        weighted = dataset.with_columns(column, [weight_variable(config)])
    return replace(weighted, weight=config.name)
