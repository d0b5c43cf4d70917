"""Layout by display width: CJK characters take two terminal cells, so padding by len() misaligns them.

wcwidth (an independent implementation of the Unicode width tables) is the reference the drawing is
measured against.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from rich.console import Console
from wcwidth import wcswidth

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.interview.capture import start_session
from survey_tui.tui.interview_app import InterviewApp
from survey_tui.tui.render import aligned_lines, fit, widest
from survey_tui.tui.screens.interview import ChoiceBoard
from survey_tui.tui.screens.questionnaire import question_detail
from tests.capture.helpers import make_study

GRID = """
id: grid
title: {zh-TW: 格, en: Grid}
languages: [zh-TW, en]
sections:
  - name: main
    questions:
      - name: sat
        type: grid
        label: {zh-TW: 請問您對以下各方面的滿意度？, en: How satisfied are you with each?}
        hint: {zh-TW: 如果用 0 到 10 分來表示，您有多大可能會向親友推薦「茶語時光」這個品牌？, en: Rate each row}
        items:
          - {name: taste, label: {zh-TW: 口味, en: Taste}}
          - {name: value, label: {zh-TW: 價格與份量, en: Value for money}}
          - {name: cp, label: {zh-TW: CP值, en: CP}}
          - {name: shop, label: {zh-TW: 店員 service 態度, en: Staff}}
        choices:
          - {code: 1, label: {zh-TW: 不滿意, en: Dissatisfied}}
          - {code: 2, label: {zh-TW: 滿意, en: Satisfied}}
"""


@pytest.mark.parametrize(
    ("text", "width"), [("價格與份量", 12), ("CP值", 6), ("abc", 3), ("店員 service 態度", 8), ("茶語時光", 5)]
)
def test_fit_pads_and_cuts_by_display_cells(text: str, width: int) -> None:
    out = fit(text, width)
    assert wcswidth(out) == width
    assert wcswidth(fit(text, width, "right")) == width
    if wcswidth(text) <= width:
        assert out.rstrip() == text
    else:
        assert out.endswith("…")
    assert widest(["口味", "CP值", "abcde"]) == 5


async def test_grid_answer_boxes_start_in_one_column_with_cjk_labels(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=GRID)
    session = start_session(study, interviewer="amy", language="zh-TW")
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen.query_one(ChoiceBoard)
        await pilot.press("1")  # first row answered: its box holds a code, the others are empty
        await pilot.pause()
        rows = [line for line in board.draw().plain.splitlines() if "[" in line]
        assert len(rows) == 4
        columns = {wcswidth(line[: line.index("[")]) for line in rows}
        assert len(columns) == 1, rows


def test_builder_detail_wraps_cjk_labels_instead_of_cutting() -> None:
    instrument, problems = load_instrument_text(textwrap.dedent(GRID), "grid.yaml")
    assert instrument is not None, problems
    console = Console(width=60, record=True)
    console.print(question_detail(instrument, instrument.question("sat")))
    shown = console.export_text()
    assert "…" not in shown
    label = instrument.question("sat")
    for text in (label.label["zh-TW"], label.hint["zh-TW"]):  # every character is shown, to the last
        assert all(ch in shown for ch in text if not ch.isspace()), text


LONG = """
id: long
title: {zh-TW: 長, en: Long}
languages: [zh-TW, en]
sections:
  - name: main
    questions:
      - name: region
        type: single
        label: {zh-TW: 您住在哪一區？, en: Which region?}
        special_codes: false
        choices:
          - {code: 1, label: {zh-TW: 北部, en: North}}
          - code: 4
            label:
              zh-TW: 東部及離島（花蓮縣、臺東縣、澎湖縣、金門縣、連江縣，以及其他未列出的外島地區與偏遠鄉鎮）
              en: East and outlying islands (Hualien, Taitung, Penghu, Kinmen, Lienchiang and the other islands)
"""


@pytest.mark.parametrize("language", ["zh-TW", "en"])
async def test_long_choice_labels_wrap_under_themselves_at_80_columns(tmp_path: Path, language: str) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=LONG)
    session = start_session(study, interviewer="amy", language=language)
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen.query_one(ChoiceBoard)
        lines = board.draw().plain.splitlines()
        label = session.engine.view().choices[1].label  # type: ignore[union-attr]
        start = next(i for i, line in enumerate(lines) if line.lstrip("▸ ").startswith("4  "))
        column = wcswidth(lines[start][: lines[start].index("4  ") + 3])  # where the label starts
        rest = lines[start + 1 :]
        assert rest, "the long label was not wrapped"
        for line in rest:
            assert wcswidth(line) <= board.content_size.width  # nothing runs past the board
            assert line[:column].strip() == "" and line[column] != " "  # under the label, not the codes
        shown = "".join(part.strip() for part in [lines[start][column:], *rest])
        assert shown.replace(" ", "") == label.replace(" ", "")  # every character, in order, none cut


def test_aligned_lines_put_numbers_under_their_headers_by_display_width() -> None:
    """Analysis's per-interviewer table: Chinese and Latin names side by side, every number ending in the
    column where its header ends (measured with wcwidth), and the whole as narrow as its widest cells."""
    headers = ("Interviewer", "n", "median min", "DK rate")
    rows = [("張家豪", "38", "4.0", "2.6%"), ("Amy", "5", "12.5", "10.0%"), ("歐陽娜娜", "120", "7.8", "0.0%")]
    lines = aligned_lines(headers, rows).split("\n")
    assert len(lines) == 4
    assert len({wcswidth(line) for line in lines}) == 1  # every line the same width on screen
    assert wcswidth(lines[0]) == 11 + 2 + 3 + 2 + 10 + 2 + 7  # widest cell per column, two-cell gaps

    def cell_ends(line: str) -> list[int]:  # display column where each cell ends (cells hold no double space)
        return [wcswidth(line[: m.end()]) for m in re.finditer(r"\S+(?: \S+)*", line)]

    header_ends = cell_ends(lines[0])
    assert len(header_ends) == len(headers)
    for line in lines[1:]:
        assert cell_ends(line)[1:] == header_ends[1:], line  # numbers right-aligned under their headers
        assert line.index(line.strip()) == 0  # names left-aligned at the first column
