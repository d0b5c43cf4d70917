"""The chart deck read back with python-pptx: slide count and titles, charts, bases, footnotes, verdicts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pptx import Presentation

from survey_tui.cli import main
from survey_tui.core.study import open_study
from survey_tui.report import charts
from survey_tui.report.deck import HEADLINE, write_deck
from survey_tui.report.full_report import SECTIONS, build_report


@pytest.fixture(scope="module")
def report(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    return build_report(open_study(demo_study_dir))


def _texts(slide) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs]


def test_one_slide_per_objective_and_planned_table_and_the_verdicts(
    report, demo_study_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deck.pptx"
    write_deck(report, path, charts=False)
    deck = Presentation(str(path))
    config = open_study(demo_study_dir).config
    tables = [b.table for b in report.blocks if b.kind == "banner"]
    titles = [s.shapes.title.text for s in deck.slides]
    assert len(titles) == 1 + len(config.objectives) + len(tables) + 1
    assert titles[0] == config.title and titles[-1] == SECTIONS[7]
    assert [t for t in titles if t in {tb.title for tb in tables}] == [t.title for t in tables]
    assert sum(any(t.startswith(o.id + " ") for o in config.objectives) for t in titles) == len(config.objectives)
    for slide, table in zip(
        (s for s in deck.slides if s.shapes.title.text in {t.title for t in tables}), tables, strict=True
    ):
        texts = _texts(slide)
        assert HEADLINE in texts
        assert all(line in texts for line in table.footnote(report.language))
        assert any(t.endswith(f"{table.columns[0].unweighted}") for t in texts)  # the Total base
    verdict_table = next(s.table for s in deck.slides[-1].shapes if s.has_table)
    ids = [verdict_table.cell(r, 0).text for r in range(1, len(verdict_table.rows))]
    assert ids == [h.id for h in config.hypotheses]


@pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (apt install fonts-noto-cjk)")
def test_table_slides_carry_their_chart(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deck.pptx"
    assert write_deck(report, path) == []
    deck = Presentation(str(path))
    pictures = sum(1 for s in deck.slides for shape in s.shapes if shape.shape_type == 13)  # MSO_SHAPE_TYPE.PICTURE
    expected = sum(1 for b in report.blocks if b.kind == "banner" and charts.chart_data(b.table) is not None)
    assert pictures == expected > 5


def test_report_command_writes_the_deck(demo_study_dir: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(demo_study_dir, study)
    assert main(["report", "--study", str(study), "--format", "pptx"]) == 0
    assert len(Presentation(str(study / "exports" / "deck.pptx")).slides) > 5
    assert main(["report", "--study", str(study), "--format", "ppt"]) == 2
