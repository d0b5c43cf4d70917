"""The tab book read back with openpyxl: links, frozen panes, number formats, letters, bands, print setup."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import openpyxl
import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.tables import TableOptions, banner_tables, frequencies
from survey_tui.analysis.tabplan import run_plan
from survey_tui.cli import main
from survey_tui.core.plan.tabplan import read_tab_plan
from survey_tui.core.study import open_study
from survey_tui.report.tabbook import CONTENTS, HEADER_ROWS, sheet_name, write_tab_book


@pytest.fixture
def study_copy(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target)
    return target


@pytest.fixture(scope="module")
def planned(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    study = open_study(demo_study_dir)
    plan = read_tab_plan(demo_study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    return run_plan(plan, load_dataset(study), "en")


def _number_cells(sheet, row: int, ncols: int) -> list:  # type: ignore[no-untyped-def]
    return [sheet.cell(row, 2 + 2 * i) for i in range(ncols)]


def test_contents_links_to_every_table_and_each_links_back(planned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "book.xlsx"
    write_tab_book(planned, path, "Study", "en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == CONTENTS and len(book.sheetnames) == len(planned) + 1
    contents = book[CONTENTS]
    links = [c.hyperlink.location for c in contents["A"] if c.hyperlink is not None]
    assert links == [f"'{name}'!A1" for name in book.sheetnames[1:]]
    titles = [contents.cell(r, 2).value for r in range(4, 4 + len(planned))]
    assert titles == [t.title for t in planned]
    for name in book.sheetnames[1:]:
        assert book[name]["A1"].hyperlink.location == f"'{CONTENTS}'!A1"
    assert not path.with_name(path.name + ".tmp").exists()


def test_table_sheet_numbers_letters_bases_and_layout(planned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "book.xlsx"
    write_tab_book(planned, path, "Study", "en")
    book = openpyxl.load_workbook(path)
    table = planned[0]
    sheet = book[book.sheetnames[1]]
    ncols = len(table.columns)
    assert sheet.freeze_panes == f"B{HEADER_ROWS + 1}"
    # page: A4 landscape, one page wide, header rows and stub column repeated
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == f"$1:${HEADER_ROWS}" and sheet.print_title_cols == "$A:$A"
    # header band: one merged range per banner part, spanning its columns' value + letter cells
    merged = {str(r) for r in sheet.merged_cells.ranges}
    parts = [c.part for c in table.columns]
    for part in {p for p in parts if p is not None}:
        first, last = parts.index(part), len(parts) - 1 - parts[::-1].index(part)
        start = openpyxl.utils.get_column_letter(2 + 2 * first)
        end = openpyxl.utils.get_column_letter(3 + 2 * last)
        assert f"{start}3:{end}3" in merged
        label = next(c.part_label for c in table.columns if c.part == part)
        assert sheet[f"{start}3"].value == label
    assert [sheet.cell(4, 2 + 2 * i).value for i in range(ncols)] == [c.label for c in table.columns]
    # bases in rows of their own: weighted then unweighted, as numbers
    assert table.weighted
    weighted = _number_cells(sheet, HEADER_ROWS + 1, ncols)
    unweighted = _number_cells(sheet, HEADER_ROWS + 2, ncols)
    assert [c.value for c in weighted] == pytest.approx([c.base for c in table.columns])
    assert [c.value for c in unweighted] == [c.unweighted for c in table.columns]
    # rows: % as fractions with a % format, letters in the cell beside, counts beneath
    r = HEADER_ROWS + 3
    letters_seen = 0
    for row in table.rows:
        assert sheet.cell(r, 1).value == row.label
        for i in range(ncols):
            cell = sheet.cell(r, 2 + 2 * i)
            value = row.values[i]
            if math.isnan(value):
                assert cell.value == "—"
            else:
                assert isinstance(cell.value, (int, float)) and cell.data_type == "n"
                if row.kind in ("mean", "sd", "median", "nps"):
                    assert cell.value == pytest.approx(value)
                else:
                    assert cell.value == pytest.approx(value / 100) and cell.number_format == "0.0%"
            tag = (row.total_marks[i] if row.total_marks else "") + row.letters[i]
            assert (sheet.cell(r, 3 + 2 * i).value or "") == tag
            letters_seen += bool(row.letters[i])
        r += 1
        if row.counts is not None:
            assert [sheet.cell(r, 2 + 2 * i).value for i in range(ncols)] == pytest.approx(list(row.counts))
            r += 1
    footnote = [sheet.cell(r + 1 + k, 1).value for k in range(len(table.footnote("en")))]
    assert footnote == table.footnote("en")
    assert letters_seen or not any(any(row.letters) for row in table.rows)


def test_some_planned_table_carries_letters_in_their_own_cells(planned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "book.xlsx"
    write_tab_book(planned, path, "Study", "en")
    book = openpyxl.load_workbook(path)
    expected = sum(1 for t in planned for row in t.rows for letters in row.letters if letters)
    found = 0
    for name in book.sheetnames[1:]:
        for row in book[name].iter_rows(min_row=HEADER_ROWS + 1):
            for cell in row[2::2]:
                if isinstance(cell.value, str) and cell.value.isalpha() and cell.value.isupper():
                    found += 1
    assert expected > 0 and found == expected


def test_formula_like_labels_stay_text(demo_study_dir: Path, tmp_path: Path) -> None:
    data = load_dataset(open_study(demo_study_dir))
    table = banner_tables(data, ["u1_freq"], ["s3"], TableOptions(language="en"))[0]
    table.rows[0].label = '=HYPERLINK("http://x")'
    table.title = "+cmd|' /C calc'!A0"
    path = tmp_path / "b.xlsx"
    write_tab_book([table], path, "=1+1", "en")
    book = openpyxl.load_workbook(path)
    sheet = book[book.sheetnames[1]]
    assert sheet["A2"].value == table.title and sheet["A2"].data_type == "s"
    assert sheet.cell(HEADER_ROWS + 2, 1).data_type == "s"
    assert book[CONTENTS]["A1"].data_type == "s"


def test_sheet_names_are_legal_and_unique() -> None:
    taken: set[str] = set()
    names = [sheet_name(n, taken) for n in ("T1", "t1", "a/b:c*?", "x" * 40, "x" * 40, "History")]
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\'") for n in names)
    assert names[2] == "a_b_c__" and names[5] != "History"


def test_frequencies_and_plan_to_xlsx_from_the_cli(study_copy: Path) -> None:
    assert main(["tables", "--study", str(study_copy), "--frequencies", "--format", "xlsx", "--lang", "en"]) == 0
    book = openpyxl.load_workbook(study_copy / "exports" / "frequencies.xlsx")
    data = load_dataset(open_study(study_copy))
    expected = frequencies(data, None, TableOptions(language="en", weight=data.weight))
    assert len(book.sheetnames) == len(expected) + 1
    first = expected[0]
    sheet = book[book.sheetnames[1]]
    assert sheet.freeze_panes == "C5"
    for k, row in enumerate(first.rows, start=5):
        assert sheet.cell(k, 2).value == row.label
        assert sheet.cell(k, 3).value == pytest.approx(row.count)
        assert sheet.cell(k, 4).value == pytest.approx(row.percent / 100)
        assert sheet.cell(k, 4).number_format == "0.0%"
        if row.valid_percent is not None:
            assert sheet.cell(k, 5).value == pytest.approx(row.valid_percent / 100)
    assert main(["tables", "--study", str(study_copy), "--plan", "tabs/main.yaml", "--format", "xlsx"]) == 0
    plan_book = openpyxl.load_workbook(study_copy / "exports" / "main.xlsx")
    assert plan_book.sheetnames[0] == CONTENTS and len(plan_book.sheetnames) > 2
