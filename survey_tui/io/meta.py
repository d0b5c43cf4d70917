"""What every export writer needs: one wide frame and the metadata of each of its variables.

Writers depend only on `ExportData` (a polars frame + `ExportVariable`s), so they can be tested with a
hand-built frame and fed by whichever module builds the study's data set (`analysis.dataset` when it is
there, else `frame_from_store` here). Names are made legal per target (SPSS, Stata, Triple-S) in one
place so every file of an export agrees on which column is which.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from survey_tui.core.instrument.model import PIPE_PATTERN, label_text

Measure = Literal["nominal", "ordinal", "scale"]
#: a RIM weight (kind "weight") keeps this many decimals in fixed-width files and SPSS's display format
WEIGHT_DECIMALS = 6

#: Interview-level columns every export starts with (no contact data among them).
ID_LABELS: dict[str, dict[str, str]] = {
    "interview_id": {"zh-TW": "訪問編號", "en": "Interview ID"},
    "uuid": {"zh-TW": "訪問識別碼", "en": "Interview UUID"},
    "respondent_id": {"zh-TW": "受訪者編號", "en": "Respondent ID"},
    "interviewer": {"zh-TW": "訪員", "en": "Interviewer"},
    "mode": {"zh-TW": "訪問類型（正式／試訪）", "en": "Interview mode (field / pilot)"},
    "language": {"zh-TW": "訪問語言", "en": "Interview language"},
    "instrument_version": {"zh-TW": "問卷版本", "en": "Instrument version"},
    "started_at": {"zh-TW": "開始時間（UTC）", "en": "Started at (UTC)"},
    "ended_at": {"zh-TW": "結束時間（UTC）", "en": "Ended at (UTC)"},
    "duration_s": {"zh-TW": "訪問時長（秒）", "en": "Interview length (seconds)"},
}


@dataclass
class ExportVariable:
    """One column of the data file and what an analyst must know about it."""

    name: str
    kind: str  # question type (single, multi, scale, grid, numeric, text, date, calculate) or "id"
    label: dict[str, str] = field(default_factory=dict)  # language -> variable label
    question: str = ""  # owning question name ("" for interview-level columns)
    question_text: dict[str, str] = field(default_factory=dict)  # language -> full question wording
    measure: Measure = "nominal"
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)  # language -> code -> label
    missing: dict[int, str] = field(default_factory=dict)  # user-missing code -> special name
    relevance: str | None = None
    version: str | None = None
    choice_code: int | None = None  # multi dichotomies: the choice this 0/1 column stands for
    decimals: int = 0
    history: list[str] = field(default_factory=list)  # how the question changed across instrument versions

    def label_in(self, language: str) -> str:
        return label_text(self.label, language, "en") or self.name

    def values_in(self, language: str) -> dict[int, str]:
        """Value labels in `language`, falling back per code to any language that has one."""
        merged: dict[int, str] = {}
        for lang in (*[lang for lang in self.value_labels if lang != language], language):
            merged.update({code: text for code, text in self.value_labels.get(lang, {}).items() if text})
        return dict(sorted(merged.items()))

    @property
    def is_coded(self) -> bool:
        return bool(self.value_labels) or self.kind in ("single", "scale", "grid", "multi")


@dataclass
class ExportData:
    """A wide frame with one row per interview plus the metadata writers turn into labels."""

    frame: pl.DataFrame
    variables: list[ExportVariable]
    title: str = ""
    instrument_id: str = ""
    instrument_title: dict[str, str] = field(default_factory=dict)
    versions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: ["zh-TW", "en"])
    filters: list[str] = field(default_factory=list)  # what was left out and why (notes, manifest)

    def __post_init__(self) -> None:
        names = [v.name for v in self.variables]
        if names != self.frame.columns:
            missing = sorted(set(self.frame.columns) ^ set(names))
            raise ValueError(f"frame columns and variable metadata disagree (e.g. {missing[:3]})")

    def variable(self, name: str) -> ExportVariable:
        return next(v for v in self.variables if v.name == name)

    def multi_sets(self) -> dict[str, list[ExportVariable]]:
        """Question name -> its 0/1 dichotomies, in order (SPSS MRSETS, Triple-S multiple)."""
        sets: dict[str, list[ExportVariable]] = {}
        for var in self.variables:
            if var.kind == "multi" and var.choice_code is not None:
                sets.setdefault(var.question, []).append(var)
        return sets


# -- legal names per target ----------------------------------------------------------------------
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})
STATA_RESERVED = frozenset(
    [
        "_all",
        "_b",
        "byte",
        "_coef",
        "_cons",
        "double",
        "float",
        "if",
        "in",
        "int",
        "long",
        "_n",
        "_N",
        "_pi",
        "_pred",
        "_rc",
        "_skip",
        "str",
        "strL",
        "using",
        "with",
    ]
)


def _unique(base: str, taken: set[str], fits: Any, fold: Any) -> str:
    candidate, n = base, 1
    while fold(candidate) in taken or not fits(candidate):
        n += 1
        suffix = f"_{n}"
        stem = base
        while not fits(stem + suffix):
            stem = stem[:-1]
        candidate = stem + suffix
    taken.add(fold(candidate))
    return candidate


def spss_names(names: Iterable[str]) -> dict[str, str]:
    """Source name -> SPSS name: letter first, no leading underscore, <= 64 UTF-8 bytes, unique ignoring case."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        clean = re.sub(r"[^\w.$#@]", "_", name)
        clean = clean.lstrip("_.$#@0123456789") or "v"
        if clean.upper() in SPSS_RESERVED:
            clean = f"{clean}_"
        clean = clean.rstrip(".")
        while len(clean.encode("utf-8")) > 64:
            clean = clean[:-1]
        out[name] = _unique(clean, taken, lambda s: len(s.encode("utf-8")) <= 64, str.upper)
    return out


def stata_names(names: Iterable[str], limit: int = 32) -> dict[str, str]:
    """Source name -> Stata name: ASCII letters, digits and _, not a digit first, <= `limit` (32) characters."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not clean or clean[0].isdigit():
            clean = f"v{clean}"
        if clean in STATA_RESERVED:
            clean = f"{clean}_v"
        clean = clean[:limit]
        out[name] = _unique(clean, taken, lambda s: len(s) <= limit, str)
    return out


# -- from the analysis data set ----------------------------------------------------------------
def unpiped(text: str) -> str:
    """Piping (`{a4_bumo}`) shown as the piped question's name in brackets: a label reads `[a4_bumo]`."""
    return PIPE_PATTERN.sub(lambda match: f"[{match.group(1)}]", text)


def _unpiped(labels: dict[str, str]) -> dict[str, str]:
    return {lang: unpiped(text) for lang, text in labels.items()}


def _is_flag(column: pl.Series, meta: Any) -> bool:
    """A calculated 0/1 indicator (e.g. heavy_user) is a category, not an amount."""
    if meta.type != "calculate" or not column.dtype.is_numeric():
        return False
    values = column.drop_nulls().unique()
    return values.len() > 0 and bool(values.cast(pl.Float64).is_in([0.0, 1.0]).all())


def _missing_of(meta: Any) -> dict[int, str]:
    """Every code a file declares missing: don't know / refused by name, `missing: true` choices as not_applicable."""
    missing = dict(meta.missing_codes)
    for code in getattr(meta, "na_codes", ()):
        missing.setdefault(code, "not_applicable")
    return missing


def from_dataset(dataset: Any, title: str = "", filters: list[str] | None = None) -> ExportData:
    """An `analysis.dataset.Dataset` as export data: value labels regrouped per language, times made naive UTC.

    Interview columns (ids, interviewer, mode, times) are kept with labels of their own; `multi_special`
    flag columns (`q_98` = answered don't know) stay plain 0/1 variables outside the multiple-response set.
    """
    frame: pl.DataFrame = dataset.frame
    languages = list(dataset.languages)
    variables: list[ExportVariable] = []
    fixes: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        meta = dataset.variables.get(name)
        if meta is None:
            labels = ID_LABELS.get(name, {"en": name})
            measure: Measure = "scale" if name == "duration_s" else "nominal"
            variables.append(
                ExportVariable(
                    name, "id", {lang: labels.get(lang, labels["en"]) for lang in languages}, measure=measure
                )
            )
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
                fixes.append(pl.col(name).dt.replace_time_zone(None))
            continue
        per_lang: dict[str, dict[int, str]] = {}
        for code, texts in meta.value_labels.items():
            for lang in {*languages, *texts}:
                text = label_text(texts, lang, "en")
                if text:
                    per_lang.setdefault(lang, {})[int(code)] = unpiped(text)
        versions = ", ".join(f"v{v}" for v in meta.instrument_versions)
        kind = meta.type if meta.type != "multi" or meta.choice_code is not None else "multi_special"
        variables.append(
            ExportVariable(
                name=name,
                kind=kind,
                label=_unpiped(meta.label) or {lang: name for lang in languages},
                question=meta.question,
                question_text=_unpiped(getattr(meta, "question_label", {}) or {}),
                measure="nominal" if set(meta.value_labels) == {0, 1} or _is_flag(frame[name], meta) else meta.measure,
                value_labels=per_lang,
                missing=_missing_of(meta),
                relevance=meta.relevance,
                version=versions or None,
                choice_code=meta.choice_code,
                decimals=WEIGHT_DECIMALS if meta.type == "weight" else 0,
                history=list(getattr(meta, "history", ())),
            )
        )
    if fixes:
        frame = frame.with_columns(fixes)
    instrument = dataset.instrument
    versions = sorted({v for var in dataset.variables.values() for v in var.instrument_versions})
    return ExportData(
        frame=frame,
        variables=variables,
        title=title,
        instrument_id=instrument.id,
        instrument_title=dict(instrument.title),
        versions=[f"v{v}" for v in versions],
        languages=languages,
        filters=list(filters or []),
    )
