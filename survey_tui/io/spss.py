"""SPSS `.sav` straight from polars with pyreadstat, plus a `.sps` syntax file for what .sav cannot carry.

pyreadstat writes variable and value labels (UTF-8, so Chinese stays intact), user-missing codes,
measure levels, display widths, the file label and notes; it cannot write multiple-response sets, so
the companion syntax defines them with MRSETS and restates labels and levels (running it on the .sav
is idempotent). Nothing is done row by row in Python here: the frame goes to pyreadstat as it is, so a
labelled export costs what a bare `write_sav` costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyreadstat

from survey_tui.core.atomic import atomic_path
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.io.meta import ExportData, ExportVariable, spss_names


@dataclass(frozen=True)
class SpssMeta:
    """Everything handed to `pyreadstat.write_sav`, keyed by SPSS name."""

    names: dict[str, str]  # source -> SPSS
    column_labels: dict[str, str]
    value_labels: dict[str, dict[int | float, str]]
    missing_ranges: dict[str, list[int | float]]
    measures: dict[str, str]
    widths: dict[str, int]
    formats: dict[str, str]


def _display_width(var: ExportVariable, dtype: pl.DataType) -> int:
    if dtype == pl.String:
        return 20
    if dtype == pl.Date:
        return 11
    if var.kind == "multi":
        return 6
    return 8 if var.kind in ("numeric", "calculate", "id", "weight") else 6


def build_meta(data: ExportData, language: str) -> SpssMeta:
    names = spss_names(data.frame.columns)
    labels, values, missing, measures, widths, formats = {}, {}, {}, {}, {}, {}
    schema = data.frame.schema
    for var in data.variables:
        name = names[var.name]
        dtype = schema[var.name]
        labels[name] = clip_bytes(var.label_in(language), 256)  # SPSS's variable-label limit
        numeric = dtype.is_numeric()
        if numeric:
            vl = var.values_in(language)
            if vl:
                values[name] = {code: clip_bytes(text, 120) for code, text in vl.items()}  # value-label limit
            codes = sorted(var.missing)
            if codes:
                missing[name] = _missing_spec(codes)
            if var.kind in ("numeric", "calculate", "weight"):  # whole numbers show as 60, not 60.00
                formats[name] = f"F10.{var.decimals}"
        measures[name] = var.measure if numeric or dtype == pl.Date else "nominal"
        widths[name] = _display_width(var, dtype)
    return SpssMeta(names, labels, values, missing, measures, widths, formats)


def clip_bytes(text: str, limit: int) -> str:
    """Cut to at most `limit` UTF-8 bytes without splitting a character (SPSS counts bytes)."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _missing_spec(codes: list[int]) -> list[int | float]:
    """At most three discrete user-missing values (SPSS's limit); more become one range."""
    if len(codes) <= 3:
        return list(codes)
    return [{"lo": min(codes), "hi": max(codes)}]  # type: ignore[list-item]


def file_notes(data: ExportData, exported_at: str) -> list[str]:
    notes = [
        f"Study: {data.title}",
        f"Instrument: {data.instrument_id} version(s) {', '.join(data.versions) or '-'}",
        f"Exported by survey-tui at {exported_at}",
    ]
    notes += [f"Filter: {text}" for text in data.filters]
    return notes


def write_sav(
    data: ExportData,
    path: Path,
    language: str,
    *,
    exported_at: str = "",
    row_compress: bool = True,
    file_label: str | None = None,
) -> SpssMeta:
    """Write `data` to `path` atomically (temp file in the same folder, then rename)."""
    meta = build_meta(data, language)
    frame = data.frame.rename(meta.names) if any(k != v for k, v in meta.names.items()) else data.frame
    with atomic_path(Path(path)) as tmp:
        pyreadstat.write_sav(
            frame,
            tmp,
            file_label=clip_bytes(file_label if file_label is not None else data.title, 64),
            column_labels=meta.column_labels,
            row_compress=row_compress,
            note=file_notes(data, exported_at),
            variable_value_labels=meta.value_labels or None,
            missing_ranges=meta.missing_ranges or None,
            variable_display_width=meta.widths,
            variable_measure=meta.measures,
            variable_format=meta.formats or None,
        )
    return meta


# -- companion syntax ----------------------------------------------------------------------------
def _quote(text: str) -> str:
    return "'" + text.replace("'", "''").replace("\n", " ") + "'"


def sps_syntax(data: ExportData, meta: SpssMeta, language: str, sav_name: str) -> str:
    """SPSS syntax: MRSETS for multi questions, and labels, missing values and levels restated."""
    lines = [
        "* Encoding: UTF-8.",
        f"* survey-tui companion syntax for {sav_name}: run it with the data set open.",
        "* pyreadstat cannot store multiple-response sets in a .sav, so they are defined here.",
        "",
    ]
    sets = data.multi_sets()
    if sets:
        lines.append("MRSETS")
        for question, members in sets.items():
            set_label = members[0].question_text.get(language) or members[0].label_in(language)
            set_name = "$" + spss_names([question])[question][:63]
            lines.append(
                f"  /MDGROUP NAME={set_name} LABEL={_quote(set_label)} CATEGORYLABELS=VARLABELS VALUE=1"
                f"\n    VARIABLES={' '.join(meta.names[m.name] for m in members)}"
            )
        lines.append("  /DISPLAY NAME=[" + " ".join("$" + spss_names([q])[q][:63] for q in sets) + "].")
        lines.append("")
    lines.append("VARIABLE LABELS")
    label_lines = [f"  {meta.names[v.name]} {_quote(meta.column_labels[meta.names[v.name]])}" for v in data.variables]
    lines.append("\n".join(label_lines) + ".")
    lines.append("")
    if meta.value_labels:
        lines.append("VALUE LABELS")
        blocks = []
        for name, values in meta.value_labels.items():
            pairs = " ".join(f"{_num(code)} {_quote(text)}" for code, text in values.items())
            blocks.append(f"  {name} {pairs}")
        lines.append("\n  /".join(blocks) + ".")
        lines.append("")
    if meta.missing_ranges:
        lines.append("MISSING VALUES")
        blocks = []
        for name, spec in meta.missing_ranges.items():
            if spec and isinstance(spec[0], dict):
                blocks.append(f"  {name} ({_num(spec[0]['lo'])} THRU {_num(spec[0]['hi'])})")
            else:
                blocks.append(f"  {name} ({', '.join(_num(c) for c in spec)})")
        lines.append("\n  /".join(blocks) + ".")
        lines.append("")
    for level in ("nominal", "ordinal", "scale"):
        members = [name for name, m in meta.measures.items() if m == level]
        if members:
            lines.append(f"VARIABLE LEVEL {' '.join(members)} ({level.upper()}).")
    lines.append("EXECUTE.")
    return "\n".join(lines) + "\n"


def _num(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_sps(data: ExportData, meta: SpssMeta, path: Path, language: str, sav_name: str) -> None:
    write_text_atomic(Path(path), sps_syntax(data, meta, language, sav_name))
