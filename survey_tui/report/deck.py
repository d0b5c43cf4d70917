"""The chart deck (python-pptx): how market-research clients in Taiwan receive their results.

Built from the same `Report` as the Word file, so the deck and the report never disagree: a title slide;
per objective, a slide with the objective and then one slide per planned table with its chart (the
engine's numbers, see `charts`), its base, its footnote and a box for the headline still to write; and
the hypothesis verdicts as a table. 16:9 slides; East Asian text is set in the Traditional Chinese font.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from survey_tui.core.atomic import atomic_path
from survey_tui.report.full_report import PLACEHOLDER, SECTIONS, Report
from survey_tui.report.word import EAST_ASIAN_FONT

HEADLINE = f"{PLACEHOLDER}: the headline of this table 本表重點"


def _east_asian(run: Any) -> None:
    """Name the Traditional Chinese font for the run's East Asian text (python-pptx sets Latin only)."""
    from pptx.oxml.ns import qn

    rpr = run._r.get_or_add_rPr()
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.append(ea)
    ea.set("typeface", EAST_ASIAN_FONT)


def _text(slide: Any, left: Any, top: Any, width: Any, height: Any, lines: list[str], size: float, **style: Any) -> Any:
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        run.font.size = Pt(size)
        run.font.italic = style.get("italic", False)
        run.font.bold = style.get("bold", False)
        _east_asian(run)
    return box


def _title(slide: Any, text: str, size: float = 26) -> None:
    """The slide title, across the 16:9 slide (the layouts are drawn for 4:3)."""
    from pptx.util import Inches, Pt

    title = slide.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.0)
    title.text = text
    for paragraph in title.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(size)
            _east_asian(run)


def write_deck(report: Report, path: Path, charts: bool = True) -> list[str]:
    """The deck of `report`; returns notes for the user (why there are no charts)."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    from survey_tui.analysis.tables import base_rows
    from survey_tui.report.charts import chart_png, chart_problem

    notes: list[str] = []
    banners = [b.table for b in report.blocks if b.kind == "banner"]
    problem = chart_problem(banners) if charts else None
    if problem:
        notes.append(problem)
        charts = False
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    cover = deck.slides.add_slide(deck.slide_layouts[0])
    _title(cover, report.title, 36)
    cover.shapes.title.top = Inches(2.4)
    subtitle = cover.placeholders[1]
    subtitle.left, subtitle.top, subtitle.width = Inches(0.5), Inches(4.0), Inches(12.3)
    subtitle.text = report.author
    title_only = deck.slide_layouts[5]
    section = ""
    verdicts: Any = None
    for b in report.blocks:
        if b.kind == "heading" and b.level == 2:
            section = b.text
        elif section == SECTIONS[6] and b.kind == "heading" and b.level == 3:
            slide = deck.slides.add_slide(title_only)
            _title(slide, b.text)
        elif b.kind == "banner":
            table = b.table
            slide = deck.slides.add_slide(title_only)
            _title(slide, table.title, 22)
            png = chart_png(table) if charts else None
            if png is not None:
                slide.shapes.add_picture(io.BytesIO(png), Inches(0.5), Inches(1.4), height=Inches(4.9))
            bases = [f"{label}: {values[0]}" for label, values in base_rows(table, report.language)]
            _text(slide, Inches(9.4), Inches(1.5), Inches(3.6), Inches(2.6), [HEADLINE], 16, bold=True)
            _text(slide, Inches(9.4), Inches(4.3), Inches(3.6), Inches(1.2), bases, 12)
            _text(
                slide,
                Inches(0.5),
                Inches(6.3),
                Inches(12.3),
                Inches(1.1),
                table.footnote(report.language),
                9,
                italic=True,
            )
        elif section == SECTIONS[7] and b.kind == "table" and verdicts is None:
            verdicts = b
    if verdicts is not None:
        slide = deck.slides.add_slide(title_only)
        _title(slide, SECTIONS[7])
        rows, cols = len(verdicts.rows) + 1, len(verdicts.header)
        shape = slide.shapes.add_table(rows, cols, Inches(0.4), Inches(1.4), Inches(12.5), Inches(0.4) * rows)
        grid = shape.table
        from survey_tui.report.word import fit_widths

        texts = [verdicts.header, *verdicts.rows]
        widths = fit_widths([[row[c] for row in texts] for c in range(cols)], int(Inches(12.5)), 11)
        for column, width in zip(grid.columns, widths, strict=True):
            column.width = width
        for r, values in enumerate([verdicts.header, *verdicts.rows]):
            for c, value in enumerate(values):
                cell = grid.cell(r, c)  # a pptx table has no add_row: cells are addressed by position
                cell.text = value
                for run in cell.text_frame.paragraphs[0].runs:
                    run.font.size = Pt(11)
                    _east_asian(run)
    with atomic_path(path) as tmp:
        deck.save(str(tmp))
    return notes
