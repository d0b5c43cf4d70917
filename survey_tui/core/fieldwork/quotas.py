"""Quotas (P1.3.3): cells over respondent attributes or screener answers, with targets and live counts.

Declared in `study.yaml`; each dimension's levels are expressions over screener answers (e.g. `s3`) and
respondent attributes (e.g. `gender`), answers first::

    quotas:
      - name: gender_age
        label: {zh-TW: 性別 × 年齡, en: Gender × age}
        dimensions:
          - name: gender
            levels:
              - {label: 男, when: "coalesce(s3, gender) = 1"}
              - {label: 女, when: "coalesce(s3, gender) = 2"}
          - name: age
            levels:
              - {label: 15-29, when: "coalesce(s2, age) <= 29"}
              - {label: 30-65, when: "coalesce(s2, age) >= 30"}
        default_target: 50
        targets: {"女 × 15-29": 60}

A respondent's cell is the first matching level of every dimension. Completes are counted from completed
field interviews (answers, plus the attributes of their respondent). `QuotaChecker.stop_check` plugs into
`InterviewEngine(stop_check=...)`: as soon as the interview's cell is known and full, it ends the interview
as 'quota_full'.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from survey_tui.core.instrument.expressions import Expression, Scope, WideFrameResolver, parse_expression
from survey_tui.core.instrument.model import Labels, label_text
from survey_tui.core.lazy import lazy
from survey_tui.core.store.base import decode
from survey_tui.i18n import _, study_language

if TYPE_CHECKING:
    import polars as pl

    from survey_tui.core.study import Study
else:
    pl = lazy("polars")

CELL_SEPARATOR = " × "


class QuotaLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str = Field(min_length=1)
    when: str = Field(min_length=1)

    @field_validator("when")
    @classmethod
    def _parses(cls, text: str) -> str:
        parse_expression(text)
        return text

    @property
    def expression(self) -> Expression:
        return parse_expression(self.when)


class QuotaDimension(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    levels: list[QuotaLevel] = Field(min_length=1)


class Quota(BaseModel):
    """A grid of cells (the product of its dimensions' levels), each with a target of completes."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    label: Labels | None = None
    dimensions: list[QuotaDimension] = Field(min_length=1)
    targets: dict[str, int] = Field(default_factory=dict)
    default_target: int | None = None

    @model_validator(mode="after")
    def _targets_name_cells(self) -> Quota:
        cells = {cell_key(c) for c in self.cells()}
        unknown = [k for k in self.targets if k not in cells]
        if unknown:
            raise ValueError(
                _("targets name cells that do not exist: {cells} (cells are written like '{example}')").format(
                    cells=", ".join(unknown), example=next(iter(sorted(cells)))
                )
            )
        return self

    def cells(self) -> list[tuple[str, ...]]:
        return list(itertools.product(*[[lv.label for lv in d.levels] for d in self.dimensions]))

    def target(self, cell: tuple[str, ...]) -> int | None:
        return self.targets.get(cell_key(cell), self.default_target)

    def title(self, language: str) -> str:
        return label_text(self.label, language) or self.name

    def names(self) -> set[str]:
        return {n for d in self.dimensions for lv in d.levels for n in lv.expression.names}

    def cell_of(self, scope: Scope) -> tuple[str, ...] | None:
        """The respondent's cell, or None while any dimension is still unknown."""
        labels = []
        for dimension in self.dimensions:
            hit = next((lv.label for lv in dimension.levels if lv.expression.evaluate_bool(scope)), None)
            if hit is None:
                return None
            labels.append(hit)
        return tuple(labels)


def cell_key(cell: Sequence[str]) -> str:
    return CELL_SEPARATOR.join(cell)


@dataclass(frozen=True)
class CellCount:
    quota: str
    cell: tuple[str, ...]
    target: int | None
    completes: int

    @property
    def full(self) -> bool:
        return self.target is not None and self.completes >= self.target

    @property
    def remaining(self) -> int | None:
        return None if self.target is None else max(self.target - self.completes, 0)


class LayeredScope:
    """Answers first, then the respondent's attributes: a quota or screener can use either."""

    def __init__(self, answers: Scope, attributes: Mapping[str, object] | None) -> None:
        self.answers = answers
        self.attributes = attributes or {}

    def value(self, name: str) -> object | None:
        value = self.answers.value(name)
        return self.attributes.get(name) if value is None and self.answers.special(name) is None else value

    def special(self, name: str) -> str | None:
        return self.answers.special(name)


def completes_frame(store: Any, names: set[str], since: str | None = None) -> pl.DataFrame:
    """One row per completed field interview with the named answers, falling back to respondent attributes
    (only those ended after `since`, when given).

    Answers are read one name at a time in bulk (a range of the answers_by_question index, JSON scalars typed
    by polars): at 100,000 interviews the answers used to come as 400,000 Python rows from a scan of every
    answer, then one json.loads each (1.3 s). A name some respondent's attributes also give is merged in
    Python, as before (attributes are few: they come from the sample file).
    """
    if not names:
        return pl.DataFrame()
    if not hasattr(store, "read_frames"):
        return _completes_by_rows(store, names, since)
    ordered = sorted(names)
    after = "" if since is None else " AND i.ended_at > ?"
    interviews = store.read_frame(
        "SELECT i.id AS interview_id, r.attributes AS attributes FROM interviews i"
        " LEFT JOIN respondents r ON r.id = i.respondent_id"
        " WHERE i.mode = 'field' AND i.outcome = 'complete'" + after + " ORDER BY i.id",
        () if since is None else (since,),
        {"interview_id": pl.Int64, "attributes": pl.String},
    )
    ids = interviews.select(pl.col("interview_id").set_sorted())
    attributes = {int(iid): decode(text) or {} for iid, text in interviews.drop_nulls("attributes").iter_rows() if text}
    answers = store.read_frames(
        "SELECT interview_id, value FROM answers WHERE question = ? AND special IS NULL ORDER BY interview_id",
        [(name,) for name in ordered],
        {"interview_id": pl.Int64, "value": pl.String},
    )
    columns: list[pl.Series] = []
    try:
        for name, given in zip(ordered, answers, strict=True):
            given = given.with_columns(pl.col("interview_id").set_sorted())
            aligned = ids.join(given, on="interview_id", how="left", maintain_order="left")
            if any(name in attrs for attrs in attributes.values()):
                columns.append(_merged_with_attributes(name, aligned, attributes))
            else:
                columns.append(_typed_scalars(aligned["value"]).alias(name))
    finally:
        answers.close()
    return pl.DataFrame(columns)


def _typed_scalars(values: pl.Series) -> pl.Series:
    """Stored JSON values as the column `_completes_by_rows` makes of them: whole numbers -> Int64, numbers ->
    Float64, any text -> String (numbers then as their JSON text); lists, objects, booleans and null -> null."""
    frame = values.to_frame("v")
    v = pl.col("v")
    is_int = v.str.contains(r"^-?\d+$")
    is_num = is_int | v.str.contains(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
    is_str = v.str.starts_with('"')
    counts = frame.select(is_int.sum().alias("i"), is_num.sum().alias("n"), is_str.sum().alias("s")).row(0)
    n_int, n_num, n_str = (int(c or 0) for c in counts)
    if n_str:
        expr = pl.when(is_str).then(v.str.json_path_match("$")).when(is_num).then(v)
    elif n_num and n_num == n_int:
        expr = pl.when(is_int).then(v.cast(pl.Int64, strict=False))
    else:
        expr = pl.when(is_num).then(v.cast(pl.Float64, strict=False))
    return frame.select(expr.alias("v")).to_series()


def _merged_with_attributes(name: str, aligned: pl.DataFrame, attributes: Mapping[int, Mapping[str, Any]]) -> pl.Series:
    """The answer where there is one, else the respondent's attribute, typed as `_completes_by_rows` does;
    only the rows with either go through Python."""
    values: list[object] = [None] * aligned.height
    indexed = aligned.with_row_index("__row")
    given = [iid for iid, attrs in attributes.items() if name in attrs]
    for row, iid in indexed.filter(pl.col("interview_id").is_in(given)).select("__row", "interview_id").iter_rows():
        values[row] = _scalar(attributes[int(iid)].get(name))
    for row, text in indexed.filter(pl.col("value").is_not_null()).select("__row", "value").iter_rows():
        values[row] = _scalar(decode(text))
    return pl.Series(name, values, dtype=_dtype(values), strict=False)


def _completes_by_rows(store: Any, names: set[str], since: str | None = None) -> pl.DataFrame:
    """`completes_frame` for a store without bulk reads: every row through Python."""
    ordered = sorted(names)
    marks = ", ".join("?" for _ in ordered)
    after = "" if since is None else " AND i.ended_at > ?"
    interviews = store.query(
        "SELECT i.id, r.attributes FROM interviews i LEFT JOIN respondents r ON r.id = i.respondent_id"
        " WHERE i.mode = 'field' AND i.outcome = 'complete'" + after,
        () if since is None else (since,),
    )
    rows: dict[int, dict[str, object]] = {}
    for row in interviews:
        attributes = decode(row[1]) or {}
        rows[int(row[0])] = {n: _scalar(attributes.get(n)) for n in ordered}
    answers = store.query(
        "SELECT a.interview_id, a.question, a.value FROM answers a JOIN interviews i ON i.id = a.interview_id"
        f" WHERE i.mode = 'field' AND i.outcome = 'complete' AND a.special IS NULL AND a.question IN ({marks})",
        tuple(ordered),
    )
    for row in answers:
        target = rows.get(int(row[0]))
        if target is not None:
            target[row[1]] = _scalar(decode(row[2]))
    columns = {n: [r[n] for r in rows.values()] for n in ordered}
    return pl.DataFrame(columns, schema={n: _dtype(columns[n]) for n in ordered}, strict=False)


def _scalar(value: object) -> object:
    return value if isinstance(value, int | float | str) and not isinstance(value, bool) else None


def _dtype(values: list[object]) -> type[pl.DataType]:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) for v in present):
        return pl.Int64
    if present and all(isinstance(v, int | float) for v in present):
        return pl.Float64
    return pl.String if present else pl.Float64


def quota_counts(store: Any, quotas: Sequence[Quota]) -> list[CellCount]:
    """Every cell of every quota with its target and completes so far (the quota board).

    On an offline device the counts are the server's as last pulled plus the device's own completes since."""
    from survey_tui.core.store.sync import quota_baseline

    names: set[str] = set()
    for quota in quotas:
        names |= quota.names()
    baseline = quota_baseline(store) if hasattr(store, "query") else None
    frame = completes_frame(store, names, since=None if baseline is None else baseline[0])
    result: list[CellCount] = []
    for quota in quotas:
        counts: dict[tuple[str, ...], int] = {}
        if frame.height:
            resolver = WideFrameResolver(schema=frame.schema)
            labelled = frame.select(
                [
                    pl.coalesce(
                        [pl.when(lv.expression.to_polars_bool(resolver)).then(pl.lit(lv.label)) for lv in d.levels]
                    ).alias(f"__dim{i}")
                    for i, d in enumerate(quota.dimensions)
                ]
            ).drop_nulls()
            for row in labelled.group_by(labelled.columns).len().iter_rows():
                counts[tuple(row[:-1])] = int(row[-1])
        for cell in quota.cells():
            known = 0 if baseline is None else baseline[1].get((quota.name, cell_key(cell)), 0)
            result.append(CellCount(quota.name, cell, quota.target(cell), known + counts.get(cell, 0)))
    return result


class QuotaChecker:
    """Builds the engine's `stop_check` for one respondent: 'quota_full' once their cell is full."""

    def __init__(self, store: Any, quotas: Sequence[Quota], attributes: Mapping[str, object] | None = None) -> None:
        self.store = store
        self.quotas = list(quotas)
        self.attributes = dict(attributes or {})
        self.full_cell: tuple[str, str] | None = None  # (quota name, cell key) that ended the interview

    def stop_check(self, answers: Scope) -> str | None:
        scope = LayeredScope(answers, self.attributes)
        for quota in self.quotas:
            cell = quota.cell_of(scope)
            if cell is None or quota.target(cell) is None:
                continue
            # live count, read now: another interviewer may have completed this cell a minute ago
            count = next(c for c in quota_counts(self.store, [quota]) if c.cell == cell)
            if count.full:
                self.full_cell = (quota.name, cell_key(cell))
                return "quota_full"
        return None


def stop_check_for(
    store: Any, quotas: Sequence[Quota], attributes: Mapping[str, object] | None = None
) -> Callable[[Scope], str | None] | None:
    """The function to pass as `InterviewEngine(stop_check=...)`, or None when the study has no quotas."""
    return QuotaChecker(store, quotas, attributes).stop_check if quotas else None


def quota_titles(study: Study, quotas: Sequence[Quota] | None = None) -> dict[str, str]:
    """{quota name: what to call it on screen}: the quota's own `label:` in the study language shown, else
    the labels of the questions its dimensions stand for (joined like its cells), else its name.

    A dimension stands for a question when it is named after one, or when its levels name exactly one
    question of the study's instruments (`s3 = 1` or `coalesce(s3, gender) = 1`). The instruments are only
    read when a quota has no label of its own, and one that does not load only costs its labels."""

    config = study.config
    quotas = config.quotas if quotas is None else quotas
    language = study_language(config.languages)
    titles: dict[str, str] = {}
    questions: dict[str, dict[str, str]] | None = None
    for quota in quotas:
        if quota.label:
            titles[quota.name] = quota.title(language)
            continue
        if questions is None:
            questions = _question_labels(study)
        parts = []
        for dimension in quota.dimensions:
            named = {n for level in dimension.levels for n in level.expression.names if n in questions}
            source = dimension.name if dimension.name in questions else (named.pop() if len(named) == 1 else None)
            text = label_text(questions[source], language, config.language) if source else ""
            parts.append(text or None)
        found = [p for p in parts if p]
        titles[quota.name] = (
            CELL_SEPARATOR.join(p or d.name for p, d in zip(parts, quota.dimensions, strict=True))
            if found
            else quota.name
        )
    return titles


def _question_labels(study: Study) -> dict[str, dict[str, str]]:
    """{question name: its labels} over every instrument of the study that loads (first one wins)."""
    try:
        instruments, _problems = study.load_instruments()
    except Exception:  # noqa: BLE001 - labels are a nicety: an unreadable folder leaves the names
        return {}
    labels: dict[str, dict[str, str]] = {}
    for instrument in instruments.values():
        for question in instrument.questions:
            if question.label:
                labels.setdefault(question.name, dict(question.label))
    return labels
