"""Flat files: CSV of codes, CSV of labels, Parquet and an Excel workbook (data, variables, tables).

CSV is UTF-8; with `bom=True` it starts with a byte-order mark so Excel on Traditional Chinese Windows
(which otherwise guesses Big5) opens Chinese text correctly. Everything is done with polars expressions
on whole columns, so these writers run at polars' own speed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from survey_tui.core.atomic import atomic_path
from survey_tui.i18n import N_, Phrase
from survey_tui.io.cells import XLSX_OPTIONS, csv_frame
from survey_tui.io.meta import ExportData

EXCEL_MAX_ROWS = 1_048_575  # one row is the header
#: above this many rows the workbook is streamed (XlsxWriter's constant_memory): memory stays flat
XLSX_STREAM_ROWS = 50_000


def write_csv_codes(data: ExportData, path: Path, *, bom: bool = False) -> None:
    with atomic_path(Path(path)) as tmp:
        csv_frame(data.frame).write_csv(tmp, include_bom=bom)


def labelled_frame(data: ExportData, language: str) -> pl.DataFrame:
    """Codes replaced by their labels in `language` (codes without a label stay as the number)."""
    exprs = []
    schema = data.frame.schema
    for var in data.variables:
        labels = var.values_in(language)
        if not labels or not schema[var.name].is_numeric():
            continue
        mapping = {float(code): text for code, text in labels.items()}
        column = pl.col(var.name)
        exprs.append(
            column.cast(pl.Float64)
            .replace_strict(mapping, default=column.cast(pl.String), return_dtype=pl.String)
            .alias(var.name)
        )
    return data.frame.with_columns(exprs) if exprs else data.frame


def write_csv_labels(data: ExportData, path: Path, language: str, *, bom: bool = False) -> None:
    with atomic_path(Path(path)) as tmp:
        csv_frame(labelled_frame(data, language)).write_csv(tmp, include_bom=bom)


def variable_sheet(data: ExportData, language: str) -> pl.DataFrame:
    """One row per variable: what the codebook says, as a table (XLSX sheet, Parquet metadata)."""
    rows = []
    for var in data.variables:
        rows.append(
            {
                "variable": var.name,
                "label": var.label_in(language),
                "type": var.kind,
                "measure": var.measure,
                "values": "; ".join(f"{code}={text}" for code, text in var.values_in(language).items()),
                "missing": "; ".join(f"{code}={name}" for code, name in sorted(var.missing.items())),
                "relevance": var.relevance or "",
                "version": var.version or "",
            }
        )
    return pl.DataFrame(
        rows,
        schema=dict.fromkeys(
            ("variable", "label", "type", "measure", "values", "missing", "relevance", "version"), pl.String
        ),
    )


def write_parquet(data: ExportData, path: Path, language: str) -> None:
    """Parquet with the variable labels, value labels and missing codes as file metadata (JSON)."""
    meta = {
        var.name: {
            "label": var.label,
            "type": var.kind,
            "measure": var.measure,
            "value_labels": {lang: {str(k): v for k, v in vl.items()} for lang, vl in var.value_labels.items()},
            "missing": {str(k): v for k, v in var.missing.items()},
        }
        for var in data.variables
    }
    metadata = {
        "survey_tui.variables": json.dumps(meta, ensure_ascii=False),
        "survey_tui.study": data.title,
        "survey_tui.instrument": f"{data.instrument_id} {', '.join(data.versions)}",
        "survey_tui.language": language,
    }
    with atomic_path(Path(path)) as tmp:
        data.frame.write_parquet(tmp, metadata=metadata)


def frequency_table(data: ExportData, name: str, language: str) -> pl.DataFrame:
    """Counts and column percentages of one coded variable (valid percent leaves user-missing codes out)."""
    var = data.variable(name)
    labels = var.values_in(language)
    counts = data.frame.group_by(name).len().sort(name, nulls_last=True)
    total = int(counts["len"].sum())
    valid_total = int(
        counts.filter(
            pl.col(name).is_not_null() & ~pl.col(name).cast(pl.Float64).is_in([float(c) for c in var.missing])
        )["len"].sum()
    )
    rows = []
    for code, n in counts.iter_rows():
        text = "(no answer / not asked)" if code is None else labels.get(int(code), str(code))
        valid = code is not None and int(code) not in var.missing
        rows.append(
            {
                "code": None if code is None else int(code),
                "label": text,
                "n": int(n),
                "percent": round(100 * n / total, 1) if total else 0.0,
                "valid_percent": round(100 * n / valid_total, 1) if valid and valid_total else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "code": pl.Int64,
            "label": pl.String,
            "n": pl.Int64,
            "percent": pl.Float64,
            "valid_percent": pl.Float64,
        },
    )


def _stream_sheet(workbook: Any, name: str, frame: pl.DataFrame) -> None:
    """A frame as a sheet in row order, as constant_memory mode requires (each row is flushed when done).

    Datetimes take the workbook's default date format; Date cells are written again with a day format
    (a row stays in memory until the next one starts, so a cell of it can still be rewritten).
    """
    sheet = workbook.add_worksheet(name)
    sheet.write_row(0, 0, frame.columns, workbook.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    dates = [i for i, dtype in enumerate(frame.schema.values()) if dtype == pl.Date]
    for r, values in enumerate(frame.iter_rows(), start=1):
        sheet.write_row(r, 0, values)
        for c in dates:
            if values[c] is not None:
                sheet.write_datetime(r, c, values[c], day)


def write_xlsx(data: ExportData, path: Path, language: str, stream_rows: int = XLSX_STREAM_ROWS) -> list[str]:
    """Workbook with Data (codes), Variables and Tables sheets; returns notes (e.g. rows left out).

    Over `stream_rows` rows the workbook is written in XlsxWriter's constant_memory mode, row by row
    (polars' `write_excel` keeps every cell in memory until the file is closed: 1 GB for 100,000 x 110).
    """
    import xlsxwriter

    notes: list[str] = []
    frame = data.frame
    stream = frame.height > stream_rows
    options = {
        **XLSX_OPTIONS,
        "constant_memory": stream,
        "remove_timezone": True,
        "default_date_format": "yyyy-mm-dd hh:mm:ss",
    }
    with atomic_path(Path(path)) as tmp:
        workbook = xlsxwriter.Workbook(str(tmp), options)
        if frame.height > EXCEL_MAX_ROWS:
            notes.append(f"Data sheet holds the first {EXCEL_MAX_ROWS:,} of {frame.height:,} rows (Excel's limit)")
            frame = frame.head(EXCEL_MAX_ROWS)
        if stream:
            notes.append(
                Phrase(
                    N_(
                        "xlsx written in constant-memory mode ({rows:,} rows, over the {limit:,}-row setting): no "
                        "autofilter or column widths; CSV or Parquet are quicker to write and read at this size"
                    ),
                    rows=frame.height,
                    limit=stream_rows,
                )
            )
            _stream_sheet(workbook, "Data", frame)
            _stream_sheet(workbook, "Variables", variable_sheet(data, language))
        else:
            frame.write_excel(workbook, "Data", autofilter=True, freeze_panes="A2", table_style=None)
            variable_sheet(data, language).write_excel(workbook, "Variables", autofit=True, table_style=None)
        sheet = workbook.add_worksheet("Tables")
        bold = workbook.add_format({"bold": True})
        row = 0
        for var in data.variables:
            if not var.value_labels or not data.frame.schema[var.name].is_numeric():
                continue
            sheet.write(row, 0, f"{var.name}  {var.label_in(language)}", bold)
            row += 1
            table = frequency_table(data, var.name, language)
            for col, header in enumerate(table.columns):
                sheet.write(row, col, header, bold)
            row += 1
            for values in table.iter_rows():
                for col, value in enumerate(values):
                    if value is not None:
                        sheet.write(row, col, value)
                row += 1
            row += 1
        workbook.close()
    return notes
