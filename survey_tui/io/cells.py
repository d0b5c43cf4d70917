"""The one rule for cells a spreadsheet could run: text from answers, labels or contact lists that starts
like a formula (`=`, `+`, `-`, `@`, tab, carriage return) is written as text, never as a formula.

- CSV has no types, so such text gets a leading apostrophe (OWASP's advice for CSV injection); a plain
  signed number such as `-5` or `+886 912 345 678` is left as it is.
- XLSX: xlsxwriter workbooks are opened with `XLSX_OPTIONS` (strings stay strings), and openpyxl sheets
  go through `openpyxl_as_text`, because both would otherwise turn `=...` into a live formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_PLAIN_SIGNED_NUMBER = re.compile(r"^[+-][0-9][0-9 ]*(\.[0-9]+)?$")

#: xlsxwriter.Workbook options: never turn text into a formula or a link
XLSX_OPTIONS: dict[str, bool] = {"strings_to_formulas": False, "strings_to_urls": False}


def starts_a_formula(text: str) -> bool:
    return bool(_FORMULA_START.match(text)) and not _PLAIN_SIGNED_NUMBER.match(text)


def csv_text(value: Any) -> Any:
    """A CSV cell: formula-like text gets a leading apostrophe; anything else is returned unchanged."""
    return "'" + value if isinstance(value, str) and starts_a_formula(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_text(v) for v in values]


class _SafeWriter:
    """csv.writer whose rows go through `csv_row`."""

    def __init__(self, handle: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: Any, **kwargs: Any) -> _SafeWriter:
    return _SafeWriter(handle, **kwargs)


def csv_frame(frame: Any) -> Any:
    """A polars frame with every text column made safe for CSV (numbers and codes untouched)."""
    import polars as pl

    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not texts:
        return frame
    exprs = [
        pl.when(pl.col(n).str.contains(_FORMULA_START.pattern) & ~pl.col(n).str.contains(_PLAIN_SIGNED_NUMBER.pattern))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in texts
    ]
    return frame.with_columns(exprs)


def openpyxl_as_text(sheet: Any) -> None:
    """openpyxl takes any string starting with `=` for a formula: mark those cells as plain text."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
