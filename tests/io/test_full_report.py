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
