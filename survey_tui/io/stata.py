"""Stata `.dta` (format 119, UTF-8) with variable and value labels, plus a `.do` file for missing codes.

Stata marks missing values as `.a`-`.z` rather than listing codes, and pyreadstat can only write those
from object columns; so the codes (98, 99, -8 ...) stay in the data with their labels and the companion
do-file turns them into extended missing values (`mvdecode`) in one command, keeping which was which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyreadstat

from survey_tui.core.atomic import atomic_path
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.io.meta import ExportData, stata_names

#: extended missing letter per special answer
STATA_MISSING = {"dont_know": ".a", "refused": ".b"}


@dataclass(frozen=True)
class StataMeta:
    names: dict[str, str]
    column_labels: dict[str, str]
    value_labels: dict[str, dict[int | float, str]]
    missing: dict[str, dict[int, str]]  # stata name -> code -> special name


def _clip(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def build_meta(data: ExportData, language: str) -> StataMeta:
    # pyreadstat names each value-label set "<variable><counter>", and that name has Stata's 32-character
    # limit too: leave room for the counter.
    names = stata_names(data.frame.columns, 32 - len(str(data.frame.width)))
    labels, values, missing = {}, {}, {}
    schema = data.frame.schema
    for var in data.variables:
        name = names[var.name]
        labels[name] = _clip(var.label_in(language), 320)  # Stata 14+: 80 characters, up to 320 bytes
        if schema[var.name].is_integer():
            vl = var.values_in(language)
            if vl:
                values[name] = {code: _clip(text, 32000) for code, text in vl.items()}
        if var.missing and schema[var.name].is_numeric():
            missing[name] = dict(var.missing)
    return StataMeta(names, labels, values, missing)


def stata_frame(data: ExportData, meta: StataMeta) -> pl.DataFrame:
    """Labelled integer columns as Int32 (Stata's `long`; value labels need integers)."""
    frame = data.frame.rename(meta.names)
    casts = [pl.col(n).cast(pl.Int32) for n in meta.value_labels if frame.schema[n] in (pl.Int64, pl.Int8, pl.Int16)]
    return frame.with_columns(casts) if casts else frame


def write_dta(data: ExportData, path: Path, language: str) -> StataMeta:
    meta = build_meta(data, language)
    with atomic_path(Path(path)) as tmp:
        pyreadstat.write_dta(
            stata_frame(data, meta),
            tmp,
            file_label=_clip(data.title, 80),
            column_labels=meta.column_labels,
            version=15,
            variable_value_labels=meta.value_labels or None,
        )
    return meta


def do_file(meta: StataMeta, dta_name: str) -> str:
    lines = [
        f"* survey-tui companion do-file for {dta_name}",
        "* Turns don't know / refused codes into extended missing values (.a don't know, .b refused).",
        f'use "{dta_name}", clear',
    ]
    for name, codes in meta.missing.items():
        pairs = " \\ ".join(f"{code}={STATA_MISSING.get(special, '.c')}" for code, special in sorted(codes.items()))
        lines.append(f"mvdecode {name}, mv({pairs})")
    return "\n".join(lines) + "\n"


def write_do(meta: StataMeta, path: Path, dta_name: str) -> None:
    write_text_atomic(Path(path), do_file(meta, dta_name))
