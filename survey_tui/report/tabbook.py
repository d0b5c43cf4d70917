"""The tab book a client receives: banner tables (or frequencies) as a formatted Excel workbook.

One sheet per table behind a contents sheet that links to each (and each links back), so a client with
hundreds of tables can find one. Numbers stay numbers: percentages are written as fractions with a `0.0%`
format (a client sums and charts them), letters sit in a cell of their own beside each percentage (they
can be filtered and hidden), and the weighted and unweighted bases have rows of their own. The banner
header (parts merged above their columns) and the stub column are frozen and repeat on every printed
page; pages are A4 landscape, fitted to the width. The footnote under each table says how its letters
were made. Text is written with `write_string` on a workbook opened with `XLSX_OPTIONS`, so an answer
that starts like a formula stays text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from survey_tui.analysis.tables import Frequency, StubTable, TableRow, tr
from survey_tui.core.store.check_behind import confirm_clean
from survey_tui.io.cells import XLSX_OPTIONS

CONTENTS = "Contents"
#: xlsxwriter's paper code for A4
A4 = 9
#: the rows of a table sheet: link back, title, banner parts, column labels, column letters
HEADER_ROWS = 5
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")
_TEXT = {
    "contents": {"en": "Contents", "zh-TW": "目錄"},
    "back": {"en": "← Contents", "zh-TW": "← 回目錄"},
    "table": {"en": "Table", "zh-TW": "表"},
    "title": {"en": "Title", "zh-TW": "標題"},
    "base": {"en": "Base", "zh-TW": "樣本數"},
    "code": {"en": "Code", "zh-TW": "代碼"},
    "label": {"en": "Answer", "zh-TW": "選項"},
    "count": {"en": "n", "zh-TW": "人數"},
    "percent": {"en": "% of all", "zh-TW": "佔全體 %"},
    "valid": {"en": "% of base", "zh-TW": "佔樣本數 %"},
}


def _t(key: str, language: str) -> str:
    return _TEXT[key].get(language) or _TEXT[key]["en"]


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A legal, unique sheet name (Excel: 31 characters, none of []:*?/\\ or ', not 'History')."""
    base = _BAD_SHEET_CHARS.sub("_", wanted).strip() or "Table"
    if base.lower() == "history":
        base = "History_"
    name, n = base[:31], 1
    while name.lower() in taken:
        n += 1
        suffix = f"~{n}"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


class _Formats:
    """The workbook's cell formats, made once (xlsxwriter formats belong to one workbook)."""

    def __init__(self, book: Any) -> None:
        border = {"border": 1, "border_color": "#BFBFBF"}
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.band = book.add_format(
            {"bold": True, "align": "center", "valign": "vcenter", "bg_color": "#D9E1F2", **border}
        )
        self.head = book.add_format(
            {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#EDF1F9", **border}
        )
        self.letter_head = book.add_format({"align": "center", "font_color": "#595959", "bg_color": "#EDF1F9"})
        self.stub = book.add_format({"text_wrap": True, "valign": "top"})
        self.stub_bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.base = book.add_format({"bold": True, "num_format": "#,##0"})
        self.base_w = book.add_format({"bold": True, "num_format": "#,##0.0"})
        self.base_small = book.add_format({"bold": True, "num_format": "#,##0", "font_color": "#C00000"})
        self.base_w_small = book.add_format({"bold": True, "num_format": "#,##0.0", "font_color": "#C00000"})
        self.pct = book.add_format({"num_format": "0.0%"})
        self.stat = book.add_format({"num_format": "0.00"})
        self.nps = book.add_format({"num_format": "+0.0;-0.0;0.0"})
        self.count = book.add_format({"num_format": "#,##0", "font_color": "#7F7F7F", "font_size": 9})
        self.letters = book.add_format({"font_color": "#C00000", "bold": True, "align": "left"})
        self.dash = book.add_format({"align": "right", "font_color": "#7F7F7F"})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})


def _number_format(row: TableRow, formats: _Formats) -> Any:
    if row.kind in ("mean", "sd", "median"):
        return formats.stat
    if row.kind == "nps":
        return formats.nps
    return formats.pct


def _cell_value(row: TableRow, index: int) -> float | None:
    """The number written for a cell: a fraction for a percentage, the statistic itself otherwise."""
    value = float(row.values[index])
    if np.isnan(value):
        return None
    return value if row.kind in ("mean", "sd", "median", "nps") else value / 100


def _print_setup(sheet: Any, header_rows: int) -> None:
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    sheet.repeat_rows(0, header_rows - 1)
    sheet.repeat_columns(0)
    sheet.hide_gridlines(0)  # no gridlines on paper; the header's borders carry the structure


def _write_table(sheet: Any, table: StubTable, formats: _Formats, language: str) -> None:
    """One table: header band, labels and letters, bases, rows of % | letters (counts beneath), footnote."""
    ncols = len(table.columns)
    sheet.write_url(0, 0, f"internal:'{CONTENTS}'!A1", formats.link, _t("back", language))
    sheet.write_string(1, 0, table.title, formats.title)
    # banner part bands: consecutive columns of one part merged above them (Total has none)
    start = 0
    while start < ncols:
        part = table.columns[start].part
        end = start
        while end + 1 < ncols and table.columns[end + 1].part == part:
            end += 1
        first, last = 1 + 2 * start, 2 + 2 * end
        text = table.columns[start].part_label or part or ""
        if first == last:
            sheet.write_string(2, first, text, formats.band)
        else:
            sheet.merge_range(2, first, 2, last, text, formats.band)
        start = end + 1
    for i, column in enumerate(table.columns):
        sheet.merge_range(3, 1 + 2 * i, 3, 2 + 2 * i, column.label, formats.head)
        sheet.merge_range(
            4, 1 + 2 * i, 4, 2 + 2 * i, f"({column.letter})" if column.letter else "", formats.letter_head
        )
    sheet.write_string(3, 0, "", formats.head)
    r = HEADER_ROWS
    weighted = table.weighted
    base_lines = [("w", tr("base_weighted", language) if weighted else table.base_label)]
    if weighted:
        base_lines.append(("u", tr("base_unweighted", language)))
    for which, label in base_lines:
        sheet.write_string(r, 0, label, formats.stub_bold)
        for i, c in enumerate(table.columns):
            if which == "w" and weighted:
                sheet.write_number(r, 1 + 2 * i, float(c.base), formats.base_w_small if c.small else formats.base_w)
            else:
                value = float(c.unweighted if which == "u" else c.base)
                sheet.write_number(r, 1 + 2 * i, value, formats.base_small if c.small else formats.base)
            if c.small and which == "w":
                sheet.write_string(r, 2 + 2 * i, "*", formats.letters)
        r += 1
    for row in table.rows:
        sheet.write_string(r, 0, row.label, formats.stub)
        number = _number_format(row, formats)
        for i in range(ncols):
            value = _cell_value(row, i)
            if value is None:
                sheet.write_string(r, 1 + 2 * i, "—", formats.dash)
            else:
                sheet.write_number(r, 1 + 2 * i, value, number)
            tag = (row.total_marks[i] if row.total_marks else "") + row.letters[i]
            if tag:
                sheet.write_string(r, 2 + 2 * i, tag, formats.letters)
        r += 1
        if row.counts is not None:
            for i in range(ncols):
                sheet.write_number(r, 1 + 2 * i, float(row.counts[i]), formats.count)
            r += 1
    r += 1
    for line in table.footnote(language):
        sheet.write_string(r, 0, line, formats.note)
        r += 1
    sheet.set_column(0, 0, 40)
    for i in range(ncols):
        sheet.set_column(1 + 2 * i, 1 + 2 * i, 9)
        sheet.set_column(2 + 2 * i, 2 + 2 * i, 5)
    sheet.set_row(3, 45)
    sheet.freeze_panes(HEADER_ROWS, 1)
    _print_setup(sheet, HEADER_ROWS)


def _write_contents(
    sheet: Any, entries: list[tuple[str, str, str, str]], title: str, formats: _Formats, language: str
) -> None:
    """(sheet, id, title, base text) per table, each id a link to its sheet."""
    sheet.write_string(0, 0, title, formats.title)
    for c, key in enumerate(("table", "title", "base")):
        sheet.write_string(2, c, _t(key, language), formats.head)
    for r, (name, ident, text, base) in enumerate(entries, start=3):
        sheet.write_url(r, 0, f"internal:'{name}'!A1", formats.link, ident)
        sheet.write_string(r, 1, text, formats.stub)
        sheet.write_string(r, 2, base, formats.stub)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 70)
    sheet.set_column(2, 2, 60)
    sheet.freeze_panes(3, 0)
    _print_setup(sheet, 3)
    sheet.activate()


def _atomic_book(path: Path):  # type: ignore[no-untyped-def]
    import xlsxwriter

    tmp = path.with_name(path.name + ".tmp")
    return tmp, xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)


def _finish(book: Any, tmp: Path, path: Path, ok: bool) -> None:
    """Close, then move into place only when every sheet was written (nothing half-written is left)."""
    book.close()
    if ok:
        try:
            confirm_clean()  # see core.atomic
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(path)
    else:
        tmp.unlink(missing_ok=True)


def write_tab_book(tables: Sequence[StubTable], path: Path, title: str, language: str = "zh-TW") -> None:
    """The banner tables as a tab book: contents sheet, then one sheet per table."""
    tmp, book = _atomic_book(path)
    ok = False
    try:
        formats = _Formats(book)
        taken: set[str] = {CONTENTS.lower()}
        contents = book.add_worksheet(CONTENTS)
        entries = []
        ids = [t.id for t in tables]
        for table in tables:
            # a planned table with several stubs gives one sheet per stub: "T5 q3_1"
            wanted = table.stub if table.id is None else table.id
            if table.id is not None and ids.count(table.id) > 1:
                wanted = f"{table.id} {table.stub}"
            name = sheet_name(wanted, taken)
            _write_table(book.add_worksheet(name), table, formats, language)
            entries.append((name, name, table.title, table.base_rule))
        _write_contents(contents, entries, title, formats, language)
        ok = True
    finally:
        _finish(book, tmp, path, ok)


def write_frequencies_book(frequencies: Sequence[Frequency], path: Path, title: str, language: str = "zh-TW") -> None:
    """Frequencies as a workbook: contents, then one sheet per question (code, answer, n, % of all, % of base)."""
    tmp, book = _atomic_book(path)
    ok = False
    try:
        formats = _Formats(book)
        taken: set[str] = {CONTENTS.lower()}
        contents = book.add_worksheet(CONTENTS)
        entries = []
        for f in frequencies:
            name = sheet_name(f.variable, taken)
            sheet = book.add_worksheet(name)
            sheet.write_url(0, 0, f"internal:'{CONTENTS}'!A1", formats.link, _t("back", language))
            sheet.write_string(1, 0, f.title, formats.title)
            for c, key in enumerate(("code", "label", "count", "percent", "valid")):
                sheet.write_string(3, c, _t(key, language), formats.head)
            r = 4
            for row in f.rows:
                if row.code is not None:
                    sheet.write_number(r, 0, row.code)
                sheet.write_string(r, 1, row.label, formats.stub)
                sheet.write_number(r, 2, float(row.count), formats.base_w if f.total != int(f.total) else formats.base)
                sheet.write_number(r, 3, row.percent / 100, formats.pct)
                if row.valid_percent is None:
                    sheet.write_string(r, 4, "—", formats.dash)
                else:
                    sheet.write_number(r, 4, row.valid_percent / 100, formats.pct)
                r += 1
            base = f"{_t('base', language)}: {f.valid:,.0f} / {f.total:,.0f}"
            sheet.write_string(r + 1, 0, base, formats.note)
            sheet.set_column(0, 0, 8)
            sheet.set_column(1, 1, 44)
            sheet.set_column(2, 4, 11)
            sheet.freeze_panes(4, 2)
            _print_setup(sheet, 4)
            entries.append((name, name, f.title, base))
        _write_contents(contents, entries, title, formats, language)
        ok = True
    finally:
        _finish(book, tmp, path, ok)
