"""SPSS `.sav` straight from polars with pyreadstat, plus a `.sps` syntax file for what .sav cannot carry.

pyreadstat writes variable and value labels (UTF-8, so Chinese stays intact), user-missing codes (numeric
and, for open ends, the don't know / refused strings), measure levels, display widths, the file label and
notes. It cannot write multiple-response sets, so `sav_mrsets` writes their record into room reserved in
the file's dictionary (one dichotomy set per multi question and coded open end; no copy of the data);
the companion syntax defines them again with MRSETS and restates labels and levels (running it on the
.sav is idempotent). Labels over SPSS's byte
limits are shortened at a character boundary and every shortening or renaming is listed in
`SpssMeta.changes` (the export report in the manifest). Nothing is done row by row in Python here.

Text don't know / refused are declared in the long-string missing-values record as the format defines
it (one value length, then the values); PSPP 1.6 expects a length before each value, warns and drops
that record when a variable has two codes, so the .sps restates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyreadstat

from survey_tui.core.atomic import atomic_path
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.io.meta import ExportData, ExportVariable, spss_names
from survey_tui.io.sav_mrsets import RESERVED_NOTE, MrSet, add_mrsets, fill_reserved, reserve_lines

VARIABLE_LABEL_BYTES = 256
VALUE_LABEL_BYTES = 120
SET_LABEL_BYTES = 256


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
    mrsets: list[MrSet] = field(default_factory=list)
    #: what had to change to fit the format: {"variable", "what", "full"} (the export report)
    changes: list[dict[str, str]] = field(default_factory=list)


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
    changes: list[dict[str, str]] = [
        {"variable": source, "what": f"renamed to {target} (SPSS name rules)", "full": source}
        for source, target in names.items()
        if source != target
    ]
    schema = data.frame.schema
    for var in data.variables:
        name = names[var.name]
        dtype = schema[var.name]
        labels[name] = _fit(var.label_in(language), VARIABLE_LABEL_BYTES, name, "variable label", changes)
        numeric = dtype.is_numeric()
        codes = sorted(var.missing)
        if numeric:
            vl = var.values_in(language)
            if vl:
                values[name] = {
                    code: _fit(text, VALUE_LABEL_BYTES, name, f"value label {code}", changes)
                    for code, text in vl.items()
                }
            if codes:
                missing[name] = _missing_spec(codes)
            if var.kind == "weight":
                formats[name] = f"F10.{var.decimals}"
            elif var.kind in ("numeric", "calculate"):  # whole numbers show as 60, not 60.00
                formats[name] = f"F10.{0 if dtype.is_integer() else var.decimals}"
            elif dtype.is_integer():  # ids, codes and 0/1 flags have no decimals
                formats[name] = f"F{max(_digits(data.frame[var.name]), 1 if dtype == pl.Int8 else 8)}.0"
        elif dtype == pl.String and codes:  # don't know / refused given as text: string user-missing
            # the file's width is the longest answer; a code longer than that cannot occur in the column
            width = data.frame[var.name].str.len_bytes().max() or 1
            fitting = [str(code) for code in codes if len(str(code)) <= width][:3]  # type: ignore[operator]
            if fitting:
                missing[name] = fitting
        measures[name] = var.measure if numeric or dtype == pl.Date else "nominal"
        if dtype.is_integer() and _is_flag(var):
            measures[name] = "nominal"
        widths[name] = _display_width(var, dtype)
    sets = []
    set_names = spss_names(data.multi_sets())
    for question, members in data.multi_sets().items():
        set_label = members[0].question_text.get(language) or members[0].label_in(language)
        set_name = set_names[question]
        while len(set_name.encode("utf-8")) > 63:  # with the "$" at most 64 bytes, like a variable name
            set_name = set_name[:-1]
        set_label = _fit(set_label, SET_LABEL_BYTES, "$" + set_name, "set label", changes)
        sets.append(MrSet(set_name, set_label, [names[m.name] for m in members]))
    return SpssMeta(names, labels, values, missing, measures, widths, formats, sets, changes)


def _digits(series: pl.Series) -> int:
    """Characters the widest value of an integer column needs (sign included)."""
    if series.null_count() == series.len():
        return 1
    return max(len(str(series.max())), len(str(series.min())))


def _is_flag(var: ExportVariable) -> bool:
    """0/1 indicator columns (multi dichotomies, don't know flags, coded open ends) are categories."""
    return var.kind in ("multi", "multi_special") or set(var.values_in("en")) <= {0, 1} and bool(var.value_labels)


def _fit(text: str, limit: int, name: str, what: str, changes: list[dict[str, str]]) -> str:
    """`text` cut to `limit` UTF-8 bytes at a character boundary; a cut is recorded in `changes`."""
    clipped = clip_bytes(text, limit)
    if clipped != text:
        changes.append(
            {
                "variable": name,
                "what": f"{what} shortened from {len(text.encode('utf-8'))} to {len(clipped.encode('utf-8'))} "
                f"bytes (SPSS limit {limit})",
                "full": text,
            }
        )
    return clipped


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
    reserved = reserve_lines(meta.mrsets) if meta.mrsets else 0
    with atomic_path(Path(path)) as tmp:
        _write_raw(frame, tmp, data, meta, exported_at, row_compress, file_label, reserved)
        if meta.mrsets and not fill_reserved(tmp, meta.mrsets, reserved):
            raw = tmp.with_name(tmp.name + ".raw")  # the writer did not keep the reserve: insert by copying
            try:
                tmp.replace(raw)
                add_mrsets(raw, tmp, meta.mrsets)
            finally:
                raw.unlink(missing_ok=True)
    return meta


def _write_raw(
    frame: pl.DataFrame,
    target: Path,
    data: ExportData,
    meta: SpssMeta,
    exported_at: str,
    row_compress: bool,
    file_label: str | None,
    reserved: int = 0,
) -> None:
    """Everything pyreadstat can write itself, plus `reserved` placeholder notes for the sets record."""
    pyreadstat.write_sav(
        frame,
        target,
        file_label=clip_bytes(file_label if file_label is not None else data.title, 64),
        column_labels=meta.column_labels,
        row_compress=row_compress,
        note=file_notes(data, exported_at) + [RESERVED_NOTE] * reserved,
        variable_value_labels=meta.value_labels or None,
        missing_ranges=meta.missing_ranges or None,
        variable_display_width=meta.widths,
        variable_measure=meta.measures,
        variable_format=meta.formats or None,
    )


# -- companion syntax ----------------------------------------------------------------------------
def _quote(text: str) -> str:
    return "'" + text.replace("'", "''").replace("\n", " ") + "'"


def sps_syntax(data: ExportData, meta: SpssMeta, language: str, sav_name: str) -> str:
    """SPSS syntax: MRSETS for multi questions, and labels, missing values and levels restated."""
    lines = [
        "* Encoding: UTF-8.",
        f"* survey-tui companion syntax for {sav_name}: run it with the data set open.",
        "* The .sav already holds these sets and labels; this restates them for tools that read syntax only.",
        "* (PSPP 1.6 cannot read two missing values of a long text variable from a .sav: run this to get them.)",
        "",
    ]
    if meta.mrsets:
        lines.append("MRSETS")
        for mrset in meta.mrsets:
            lines.append(
                f"  /MDGROUP NAME=${mrset.name} LABEL={_quote(mrset.label)} CATEGORYLABELS=VARLABELS"
                f" VALUE={mrset.counted}\n    VARIABLES={' '.join(mrset.variables)}"
            )
        lines.append("  /DISPLAY NAME=[" + " ".join("$" + m.name for m in meta.mrsets) + "].")
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
                blocks.append(f"  {name} ({', '.join(_quote(c) if isinstance(c, str) else _num(c) for c in spec)})")
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
