"""Stata `.dta` (format 119, UTF-8) with variable and value labels and don't know / refused as extended missing.

Stata marks missing values as `.a`-`.z` rather than listing codes. The codes a question declares missing
(98 don't know, 99 refused, -8 ..., and choices marked not applicable) are written as extended missing
values, `.a` don't know, `.b` refused, `.c` not applicable (further special answers `.d` on), each with
its value label, so a mean in Stata or R (haven) leaves them out without running anything. pyreadstat
writes extended missing values only from object columns holding the letter, so just those columns become
polars object columns (numpy masks, no Python loop per row). The companion do-file lists which code
became which letter, so nothing is lost. Names and labels over Stata's limits are made to fit and listed
in `StataMeta.changes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyreadstat

from survey_tui.core.atomic import atomic_path
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.io.meta import ExportData, stata_names

#: extended missing letter per special answer; others get the next free letter from `d`
STATA_MISSING = {"dont_know": "a", "refused": "b", "not_applicable": "c"}
LABEL_CHARS = 80  # Stata 14+: 80 characters (up to 320 bytes)


@dataclass(frozen=True)
class StataMeta:
    names: dict[str, str]
    column_labels: dict[str, str]
    value_labels: dict[str, dict[int | float | str, str]]
    missing: dict[str, dict[int, str]]  # stata name -> code -> extended-missing letter
    changes: list[dict[str, str]] = field(default_factory=list)


def _clip(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _letter(special: str, letters: dict[str, str]) -> str:
    if special not in letters:
        used = set(letters.values())
        letters[special] = next(c for c in "defghijklmnopqrstuvwxyz" if c not in used)
    return letters[special]


def build_meta(data: ExportData, language: str) -> StataMeta:
    # pyreadstat names each value-label set "<variable><counter>", and that name has Stata's 32-character
    # limit too: leave room for the counter.
    names = stata_names(data.frame.columns, 32 - len(str(data.frame.width)))
    changes = [
        {"variable": source, "what": f"renamed to {target} (Stata name rules)", "full": source}
        for source, target in names.items()
        if source != target
    ]
    labels, values, missing = {}, {}, {}
    letters = dict(STATA_MISSING)
    schema = data.frame.schema
    for var in data.variables:
        name = names[var.name]
        text = var.label_in(language)
        labels[name] = _clip(text[:LABEL_CHARS], 320)
        if labels[name] != text:
            changes.append(
                {
                    "variable": name,
                    "what": f"variable label shortened from {len(text)} to {len(labels[name])} characters "
                    f"(Stata limit {LABEL_CHARS})",
                    "full": text,
                }
            )
        codes = {code: _letter(special, letters) for code, special in var.missing.items()}
        numeric = schema[var.name].is_numeric()
        if codes and numeric:
            missing[name] = codes
        if schema[var.name].is_integer() or (numeric and codes):
            vl = var.values_in(language)
            if vl or codes:
                values[name] = {
                    (codes[code] if code in codes and numeric else code): _clip(text, 32000)
                    for code, text in vl.items()
                }
                for code, letter in codes.items():
                    values[name].setdefault(letter, var.missing[code].replace("_", " "))
    return StataMeta(names, labels, values, missing, changes)


def stata_frame(data: ExportData, meta: StataMeta) -> pl.DataFrame:
    """Labelled integer columns as Int32 (Stata's `long`; value labels need integers)."""
    frame = data.frame.rename(meta.names)
    casts = [
        pl.col(n).cast(pl.Int32)
        for n in meta.value_labels
        if n not in meta.missing and frame.schema[n] in (pl.Int64, pl.Int8, pl.Int16)
    ]
    return frame.with_columns(casts) if casts else frame


def _with_letters(frame: pl.DataFrame, meta: StataMeta) -> pl.DataFrame:
    """Each missing code replaced by its letter in an object column (what pyreadstat writes as `.a`...)."""
    columns = []
    for name, codes in meta.missing.items():
        column = frame[name]
        values = np.array(column.to_list(), dtype=object)
        for code, letter in codes.items():
            values[(column == code).fill_null(False).to_numpy()] = letter
        # from a list: polars types a numpy object array by its first value, and a letter first fails
        columns.append(pl.Series(name, values.tolist(), dtype=pl.Object))
    return frame.with_columns(columns)


def write_dta(data: ExportData, path: Path, language: str) -> StataMeta:
    meta = build_meta(data, language)
    frame = stata_frame(data, meta)
    with atomic_path(Path(path)) as tmp:
        pyreadstat.write_dta(
            _with_letters(frame, meta) if meta.missing else frame,
            tmp,
            file_label=_clip(data.title, 80),
            column_labels=meta.column_labels,
            version=15,
            variable_value_labels=meta.value_labels or None,
            missing_user_values={name: sorted(set(codes.values())) for name, codes in meta.missing.items()} or None,
        )
    return meta


def do_file(meta: StataMeta, dta_name: str) -> str:
    lines = [
        f"* survey-tui companion do-file for {dta_name}",
        "* Don't know / refused / not applicable are already extended missing values in the file",
        "* (.a don't know, .b refused, .c not applicable), so means and tables leave them out.",
        "* The original codes, by variable (mvencode turns them back into codes if you need them):",
        f'use "{dta_name}", clear',
    ]
    for name, codes in meta.missing.items():
        pairs = " \\ ".join(f".{letter}={code}" for code, letter in sorted(codes.items()))
        lines.append(f"* mvencode {name}, mv({pairs})")
    return "\n".join(lines) + "\n"


def write_do(meta: StataMeta, path: Path, dta_name: str) -> None:
    write_text_atomic(Path(path), do_file(meta, dta_name))
