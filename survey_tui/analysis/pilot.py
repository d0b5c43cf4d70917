"""What a pilot says about the instrument: questions people cannot answer, scales that do not scale, time.

Computed from pilot interviews only (mode='pilot'; field data never enters a pilot report, and pilot
data never enters field analysis) of one published version: per question answered / item non-response /
don't-know / refused, median time on the question from the paradata ('shown' then 'answer' events),
the answer distribution with floor, ceiling and zero-variance flags, interviewers' notes; per grid
Cronbach's alpha, corrected item-total correlations and alpha-if-item-deleted, straight-lining; median
interview length and where break-offs happened.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from survey_tui.core.instrument.model import Instrument, Question, label_text
from survey_tui.core.store.sqlite import Store

#: A distribution piles up at an end of a scale when more than this share answers there (items, not totals).
FLOOR_CEILING_SHARE = 0.30


def cronbach_alpha(matrix: list[list[float]]) -> float | None:
    """α = k/(k−1) · (1 − Σ var(item) / var(total)) over complete rows; None when undefined."""
    if not matrix or len(matrix[0]) < 2 or len(matrix) < 2:
        return None
    frame = pl.DataFrame({f"i{j}": [row[j] for row in matrix] for j in range(len(matrix[0]))})
    k = frame.width
    item_vars = frame.select(pl.all().var(ddof=1)).row(0)
    total_var = frame.select(pl.sum_horizontal(pl.all()).var(ddof=1)).item()
    if not total_var:
        return None
    return k / (k - 1) * (1 - sum(item_vars) / total_var)


def _corr(x: list[float], y: list[float]) -> float | None:
    frame = pl.DataFrame({"x": x, "y": y})
    value = frame.select(pl.corr("x", "y")).item()
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


@dataclass
class ItemStats:
    """One variable: a question, or one row of a grid."""

    variable: str
    question: str
    label: str
    type: str
    asked: int = 0  # interviews where the question was shown
    answered: int = 0  # substantive answers
    dont_know: int = 0
    refused: int = 0
    median_seconds: float | None = None
    distribution: list[tuple[str, int]] = field(default_factory=list)  # (code or value, count)
    flags: list[str] = field(default_factory=list)  # 'floor', 'ceiling', 'zero variance', 'high DK'
    notes: list[tuple[str, str]] = field(default_factory=list)  # (interviewer, note)

    @property
    def nonresponse(self) -> int:
        return self.asked - self.answered

    def rate(self, count: int) -> float | None:
        return None if not self.asked else count / self.asked


@dataclass
class GridStats:
    question: str
    label: str
    items: list[str]
    complete: int  # respondents with a substantive answer on every item
    alpha: float | None
    item_total: dict[str, float | None]
    alpha_if_deleted: dict[str, float | None]
    straightlined: int

    @property
    def straightlining_rate(self) -> float | None:
        return None if not self.complete else self.straightlined / self.complete


@dataclass
class PilotStats:
    instrument_id: str
    version: int
    interviews: int
    completed: int
    median_minutes: float | None
    breakoffs: list[tuple[str, int]]  # (question where it stopped, interviews)
    items: list[ItemStats]
    grids: list[GridStats]
    notes: list[tuple[str, str, str]]  # (question, interviewer, note) in time order

    def item(self, variable: str) -> ItemStats:
        return next(i for i in self.items if i.variable == variable)

    def grid(self, question: str) -> GridStats:
        return next(g for g in self.grids if g.question == question)


def pilot_versions(store: Store, instrument_id: str) -> list[tuple[int, int, int]]:
    """(version id, version number, pilot interviews) of the versions that were piloted."""
    rows = store.query(
        "SELECT v.id, v.version, COUNT(i.id) FROM instrument_versions v JOIN interviews i"
        " ON i.instrument_version_id = v.id AND i.mode = 'pilot' WHERE v.instrument_id = ?"
        " GROUP BY v.id ORDER BY v.version",
        (instrument_id,),
    )
    return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]


def _frames(store: Store, version_id: int, mode: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    interviews = store.query(
        "SELECT id, interviewer, status, outcome, started_at, ended_at, current_question FROM interviews"
        " WHERE instrument_version_id = ? AND mode = ? ORDER BY id",
        (version_id, mode),
    )
    ids = [int(r["id"]) for r in interviews]
    marks = ",".join("?" * len(ids)) or "NULL"
    answers = store.query(
        f"SELECT interview_id, question, value, special FROM answers WHERE interview_id IN ({marks})", tuple(ids)
    )
    events = store.query(
        f"SELECT id, interview_id, at, kind, question, detail FROM interview_events WHERE interview_id IN ({marks})"
        " ORDER BY interview_id, id",
        tuple(ids),
    )
    iv = pl.DataFrame(
        [dict(r) for r in interviews],
        schema={
            "id": pl.Int64,
            "interviewer": pl.String,
            "status": pl.String,
            "outcome": pl.String,
            "started_at": pl.String,
            "ended_at": pl.String,
            "current_question": pl.String,
        },
    )
    an = pl.DataFrame(
        [dict(r) for r in answers],
        schema={"interview_id": pl.Int64, "question": pl.String, "value": pl.String, "special": pl.String},
    )
    ev = pl.DataFrame(
        [dict(r) for r in events],
        schema={
            "id": pl.Int64,
            "interview_id": pl.Int64,
            "at": pl.String,
            "kind": pl.String,
            "question": pl.String,
            "detail": pl.String,
        },
    )
    return iv, an, ev


def _times(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(time_zone="UTC", strict=False)


def pilot_statistics(
    store: Store, instrument: Instrument, version_id: int, version: int, mode: str = "pilot"
) -> PilotStats:
    """Everything the pilot report shows, for the interviews of one version in `mode` (default: pilot)."""
    iv, an, ev = _frames(store, version_id, mode)
    lang = instrument.language
    interviewer_of = dict(zip(iv["id"].to_list(), iv["interviewer"].to_list(), strict=True))

    # time on question: an 'answer' event right after the 'shown' event of the same question
    timed = (
        ev.filter(pl.col("kind").is_in(["shown", "answer"]))
        .with_columns(
            prev_kind=pl.col("kind").shift(1).over("interview_id"),
            prev_question=pl.col("question").shift(1).over("interview_id"),
            prev_at=pl.col("at").shift(1).over("interview_id"),
        )
        .filter(
            (pl.col("kind") == "answer")
            & (pl.col("prev_kind") == "shown")
            & (pl.col("prev_question") == pl.col("question"))
        )
        .with_columns(seconds=(_times("at") - _times("prev_at")).dt.total_milliseconds() / 1000)
    )
    median_time = dict(
        timed.group_by("question").agg(pl.col("seconds").median()).select("question", "seconds").iter_rows()
    )
    shown = ev.filter(pl.col("kind") == "shown").group_by("question").agg(pl.col("interview_id").n_unique())
    asked = dict(shown.iter_rows())
    notes_frame = ev.filter(pl.col("kind") == "note")
    notes = [
        (q or "", interviewer_of.get(i) or "", d or "")
        for i, q, d in notes_frame.select("interview_id", "question", "detail").iter_rows()
    ]

    answers_by_question: dict[str, list[tuple[Any, str | None]]] = {}
    for _, question, value, special in an.iter_rows():
        answers_by_question.setdefault(question, []).append((None if value is None else json.loads(value), special))

    items: list[ItemStats] = []
    grids: list[GridStats] = []
    for q in instrument.questions:
        if not q.answerable:
            continue
        rows = answers_by_question.get(q.name, [])
        n_asked = max(asked.get(q.name, 0), len(rows))
        dk = sum(1 for _, s in rows if s == "dont_know")
        ref = sum(1 for _, s in rows if s == "refused")
        q_notes = [(who, text) for name, who, text in notes if name == q.name]
        if q.type == "grid":
            grid_values: dict[str, list[Any]] = {item.name: [] for item in q.items or []}
            for value, special in rows:
                for item in q.items or []:
                    grid_values[item.name].append(None if special else (value or {}).get(item.name))
            for item in q.items or []:
                stats = ItemStats(
                    f"{q.name}_{item.name}",
                    q.name,
                    label_text(item.label, lang),
                    q.type,
                    asked=n_asked,
                    dont_know=dk,
                    refused=ref,
                    median_seconds=median_time.get(q.name),
                    notes=q_notes,
                )
                _describe_coded(stats, q, grid_values[item.name], lang)
                items.append(stats)
            grids.append(_grid_stats(q, rows, lang))
            continue
        stats = ItemStats(
            q.name,
            q.name,
            label_text(q.label, lang),
            q.type,
            asked=n_asked,
            dont_know=dk,
            refused=ref,
            median_seconds=median_time.get(q.name),
            notes=q_notes,
        )
        values = [None if s else v for v, s in rows]
        if q.type in ("single", "scale"):
            _describe_coded(stats, q, values, lang)
        elif q.type == "multi":
            stats.answered = sum(1 for v in values if v is not None)
            for choice in q.choice_options:
                count = sum(1 for v in values if isinstance(v, list) and choice.code in v)
                stats.distribution.append((f"{choice.code} {label_text(choice.label, lang)}", count))
        elif q.type == "numeric":
            nums = [float(v) for v in values if isinstance(v, int | float)]
            stats.answered = len(nums)
            if nums:
                series = pl.Series(nums)
                stats.distribution = [
                    ("min", _num(series.min())),
                    ("median", _num(series.median())),
                    ("max", _num(series.max())),
                ]
                if series.n_unique() == 1 and len(nums) >= 2:
                    stats.flags.append("zero variance")
                for flag, bound in (("floor", q.min), ("ceiling", q.max)):
                    if bound is not None and sum(1 for v in nums if v == bound) / len(nums) > FLOOR_CEILING_SHARE:
                        stats.flags.append(flag)
        else:
            stats.answered = sum(1 for v in values if v not in (None, ""))
        _rate_flags(stats)
        items.append(stats)

    # interview length and break-offs
    completed = iv.filter(pl.col("outcome") == "complete")
    minutes = completed.select(
        ((_times("ended_at") - _times("started_at")).dt.total_milliseconds() / 60000).median()
    ).item()
    last_shown = (
        ev.filter(pl.col("kind") == "shown").group_by("interview_id").agg(pl.col("question").last().alias("last"))
    )
    broke = (
        iv.filter(pl.col("outcome") == "break_off")
        .join(last_shown, left_on="id", right_on="interview_id", how="left")
        .with_columns(where=pl.coalesce("current_question", "last").fill_null("(before the first question)"))
        .group_by("where")
        .len()
        .sort(["len", "where"], descending=[True, False])
    )
    return PilotStats(
        instrument_id=instrument.id,
        version=version,
        interviews=iv.height,
        completed=completed.height,
        median_minutes=None if minutes is None else float(minutes),
        breakoffs=[(str(w), int(n)) for w, n in broke.iter_rows()],
        items=items,
        grids=grids,
        notes=notes,
    )


def _num(value: Any) -> int:
    return value if isinstance(value, int) else round(float(value), 2)  # type: ignore[return-value]


def _describe_coded(stats: ItemStats, q: Question, values: list[Any], lang: str) -> None:
    """Counts per code; floor/ceiling on the scale's end points; zero variance when everyone agrees."""
    codes = [v for v in values if isinstance(v, int)]
    stats.answered = len(codes)
    scale = [c.code for c in q.choice_options if not c.fixed and not c.missing]  # "not applicable" is no point
    for choice in q.choice_options:
        stats.distribution.append((f"{choice.code} {label_text(choice.label, lang)}", codes.count(choice.code)))
    if len(codes) >= 2 and len(set(codes)) == 1:
        stats.flags.append("zero variance")
    if q.type in ("scale", "grid") and scale and codes:
        if codes.count(min(scale)) / len(codes) > FLOOR_CEILING_SHARE:
            stats.flags.append("floor")
        if codes.count(max(scale)) / len(codes) > FLOOR_CEILING_SHARE:
            stats.flags.append("ceiling")
    _rate_flags(stats)


def _rate_flags(stats: ItemStats) -> None:
    dk = stats.rate(stats.dont_know)
    if dk is not None and dk >= 0.1 and "high don't know" not in stats.flags:
        stats.flags.append("high don't know")
    nr = stats.rate(stats.nonresponse)
    if nr is not None and nr >= 0.2 and "high non-response" not in stats.flags:
        stats.flags.append("high non-response")


def _grid_stats(q: Question, rows: list[tuple[Any, str | None]], lang: str) -> GridStats:
    """Reliability of a battery over respondents who rated every item on the scale (not 'not applicable')."""
    names = [item.name for item in q.items or []]
    # the scale's points only: a fixed choice or one marked missing ("not applicable", 97) is no rating
    scale = {c.code for c in q.choice_options if not c.fixed and not c.missing}
    matrix: list[list[float]] = []
    for value, special in rows:
        if special or not isinstance(value, dict):
            continue
        row = [value.get(n) for n in names]
        if all(isinstance(v, int) and v in scale for v in row):
            matrix.append([float(v) for v in row])  # type: ignore[arg-type]
    alpha = cronbach_alpha(matrix)
    item_total: dict[str, float | None] = {}
    if_deleted: dict[str, float | None] = {}
    for j, name in enumerate(names):
        rest = [sum(r) - r[j] for r in matrix]
        item_total[name] = _corr([r[j] for r in matrix], rest) if len(matrix) >= 3 else None
        if_deleted[name] = cronbach_alpha([[v for i, v in enumerate(r) if i != j] for r in matrix])
    straight = sum(1 for r in matrix if len(set(r)) == 1) if len(names) >= 3 else 0
    return GridStats(q.name, label_text(q.label, lang), names, len(matrix), alpha, item_total, if_deleted, straight)
