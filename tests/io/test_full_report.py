"""The report skeleton: every section, filled from the demo study, in Markdown and in Word."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from docx import Document

from survey_tui.cli import main
from survey_tui.core.study import open_study
from survey_tui.report.full_report import PLACEHOLDER, SECTIONS, build_report, to_markdown


@pytest.fixture
def study_dir(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    return target


def test_markdown_has_every_section_filled_from_the_study(study_dir: Path) -> None:
    study = open_study(study_dir)
    report = build_report(study)
    md = to_markdown(report)
    for title in SECTIONS:
        assert f"## {title}" in md
    assert study.config.title in md and study.config.client in md
    assert "could not be filled" not in md
    assert md.count(PLACEHOLDER) >= 5  # summary, conclusions, recommendations and per-section notes
    # facts from the study, not invented
    assert "Pilot version" in md and "u8_own_cup" in md  # versions and the changes after the pilot
    assert "Cooperation rate" in md and "gender_age" in md  # respondent statuses and quotas
    # AAPOR rates by name with numerator and denominator, and the back-check sample with its seed
    assert "| RR1 | I / ((I+P) + (R+NC+O) + (UH+UO)) |" in md and "| COOP1 | I / ((I+P) + R + O) |" in md
    assert "AAPOR proportional allocation" in md and "| 20261026 |" in md
    assert "speeder" in md  # exclusions and why
    for h in study.config.hypotheses:
        assert f"| {h.id} |" in md
    assert "a letter marks the column this one is higher than" in md  # planned tables with their footnote
    assert "Base:" in md and "two-sided" in md
    assert "珍奶研究" in md and "Bubble Tea Study" in md  # questionnaire in each language
    assert "| u2_spend |" in md  # codebook appendix


def test_docx_opens_with_the_same_sections(study_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--study", str(study_dir), "--bundle"]) == 0
    doc = Document(str(study_dir / "exports/report.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    for title in SECTIONS:
        assert title in headings
    text = "\n".join(p.text for p in doc.paragraphs)
    assert PLACEHOLDER in text
    assert len(doc.tables) >= 10
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "茶語時光" in "".join(cells)
    assert (study_dir / "exports/report.md").is_file()
    with zipfile.ZipFile(study_dir / "exports/stakeholder_bundle.zip") as bundle:
        names = bundle.namelist()
    assert {"report.md", "report.docx", "deck.pptx", "main.xlsx", "bubble_tea_brand_health.sav"} <= set(names)
    assert not [n for n in names if "CONTACT" in n]


def test_a_study_without_data_says_what_is_missing(tmp_path: Path) -> None:
    from survey_tui.core.study import init_study

    study = init_study(tmp_path / "empty", "Empty study", "Nobody")
    md = to_markdown(build_report(study))
    for title in SECTIONS:
        assert f"## {title}" in md
    assert "Not available yet" in md


def test_the_quality_section_summarises_exclusions_and_lists_them_in_a_csv(study_dir: Path) -> None:
    """However many interviews are excluded, the document shows a few rows; the CSV beside it has them all."""
    import csv

    from survey_tui.analysis.quality import exclude, latest_decisions
    from survey_tui.report.full_report import EXCLUDED_FILE, MAX_LISTED, write_report

    study = open_study(study_dir)
    with study.store() as store:
        ids = [r[0] for r in store.query("SELECT id FROM interviews WHERE outcome = 'complete' ORDER BY id")]
        for n, interview_id in enumerate(ids[: MAX_LISTED + 5]):
            exclude(store, interview_id, f"reason number {n}")  # more distinct reasons than the table shows
        expected = sorted((i, r) for i, (d, r) in latest_decisions(store).items() if d == "exclude")
    report = build_report(study)
    table = next(b for b in report.blocks if b.kind == "table" and b.header == ["Reason 原因", "Interviews 訪問數"])
    assert len(table.rows) == MAX_LISTED + 1
    assert table.rows[-1][0].endswith("other reasons 其他原因")
    assert sum(int(row[1]) for row in table.rows) == len(expected)
    paths = write_report(study, ("md", "docx"))
    assert study.exports_dir / EXCLUDED_FILE in paths
    with (study.exports_dir / EXCLUDED_FILE).open(encoding="utf-8", newline="") as f:
        listed = [(int(row["interview_id"]), row["reason"]) for row in csv.DictReader(f)]
    assert listed == expected
    assert EXCLUDED_FILE in (study.exports_dir / "report.md").read_text(encoding="utf-8")


def test_word_tables_are_written_row_by_row_with_every_cell(tmp_path: Path) -> None:
    from survey_tui.report.full_report import Report, write_docx

    report = Report("t")
    rows = [[f"r{r}c{c}" for c in range(3)] for r in range(300)]
    report.table(["a", "b", "c"], rows)
    write_docx(report, tmp_path / "t.docx")
    table = Document(str(tmp_path / "t.docx")).tables[0]
    read = [[cell.text for cell in row.cells] for row in table.rows]
    assert read == [["a", "b", "c"], *rows]
    assert all(run.bold for run in table.rows[0].cells[0].paragraphs[0].runs)
