"""Paragraphs of user text wrap like Chinese (between characters, UAX #14's no-start and no-end punctuation)
and like English (at spaces), measured by display width on the Plan screen and in the helper itself."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from rich.text import Text
from textual.geometry import Region
from textual.widgets import Input, Static

from survey_tui.core.study import init_study, open_study
from survey_tui.demo.build import STUDY_YAML
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.render import NO_LINE_END, NO_LINE_START, cells, wrap, wrap_text
from survey_tui.tui.screens.questionnaire import TEXT_KEYS, QuestionForm
from tests.plan_study import make_plan_study
from tests.tui.test_builder_screen import settle
from tests.tui.test_plan_screen import make_app, open_plan, until

#: a decision with long CJK runs (no spaces to break at), digits, brackets and full stops
DECISION = (
    "是否於 2027 年第一季在全台門市同步上市「黑糖凍燕麥奶茶」新品，並依北中南東四區的品牌知名度、推薦度與購買意願，"
    "決定中南部品牌投資（含門市展店、數位廣告與通路合作）的優先順序與預算分配。"
)

ENGLISH = (
    "Whether to launch the brown-sugar jelly oat-milk tea island-wide in Q1 2027, and how to prioritise "
    "brand spending outside the north, given awareness, recommendation and purchase intent by region."
)


def test_english_wraps_at_spaces_as_textwrap_does() -> None:
    for width in (20, 33, 47, 78):  # ASCII: one cell a character, so textwrap's len() is the reference
        assert wrap(ENGLISH, width) == textwrap.wrap(ENGLISH, width, break_on_hyphens=False)


def test_chinese_breaks_between_characters_never_before_closing_or_after_opening_punctuation() -> None:
    for width in range(8, 61):
        lines = [line.plain for line in wrap_text(Text(DECISION), width)]
        assert "".join(lines).replace(" ", "") == DECISION.replace(" ", "")  # nothing lost, nothing added
        for before, after in zip(lines, lines[1:], strict=False):
            assert cells(before) <= width
            assert after[0] not in NO_LINE_START, (width, before, after)
            assert before[-1] not in NO_LINE_END, (width, before, after)
        assert cells(lines[-1]) <= width


def _decision_study(root: Path) -> Path:
    study = re.sub(r"  decision: >-\n(    .*\n)+", f"  decision: {DECISION}\n", STUDY_YAML, count=1)
    assert DECISION in study
    return make_plan_study(root, study)


async def test_plan_overview_fills_each_line_with_a_long_chinese_decision(tmp_path: Path) -> None:
    app = make_app(_decision_study(tmp_path / "study"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_plan(pilot)
        pane = app.screen.query_one("#plan-overview", Static)

        def strips() -> list:  # type: ignore[type-arg]
            return pane.render_lines(Region(0, 0, pane.region.width, pane.region.height))  # with its padding

        await until(pilot, lambda: any("黑糖" in strip.text for strip in strips()))
        await pilot.pause()  # the scroll bar shows once the text is there: the pane narrows and re-wraps
        await pilot.wait_for_scheduled_animations()
        room = pane.content_region.width  # inside the padding (0 1)
        drawn_strips = strips()
        lines = [strip.text[1:].rstrip() for strip in drawn_strips]  # the first cell is padding
        for strip in drawn_strips:
            assert strip.cell_length <= pane.region.width
        start = next(i for i, line in enumerate(lines) if line.startswith("Decision:"))
        end = next(i for i in range(start, len(lines)) if lines[i].endswith(DECISION[-6:]))
        drawn = lines[start : end + 1]
        joined = "".join(drawn).replace(" ", "")  # a space at a break ends its line and is not drawn
        assert joined == "Decision:" + DECISION.replace(" ", "")  # nothing lost
        for before, after in zip(drawn, drawn[1:], strict=False):
            assert cells(before) <= room
            first = after[0]
            if cells(first) == 2 and first not in NO_LINE_START and before[-1] not in NO_LINE_END:
                # the next character would not have fitted: the line is as full as the rules allow
                assert cells(before) + 2 > room, (before, after)
            assert cells(before) >= room // 2, (before, after)


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_question_form_shows_whole_placeholders_and_the_whole_of_a_cut_label_at_80_columns(
    tmp_path: Path, lang: str
) -> None:
    root = tmp_path / "study"
    init_study(root, "Form test", languages=["zh-TW", "en"])
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("n")  # start an instrument file
        await settle(app, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, QuestionForm))
        form = app.screen
        await pilot.pause()
        boxes = [box for box in form.query(Input) if box.placeholder]
        assert {f"f-{key}-{i}" for key in TEXT_KEYS for i in (0, 1)} <= {box.id for box in boxes}
        for box in boxes:  # the whole placeholder shows (the cursor sits on its first cell, not after it)
            assert cells(box.placeholder) <= box.content_size.width, (box.id, box.placeholder)
        full = form.query_one("#full-label", Static)
        assert not full.display  # short labels: no extra line
        box = form.query_one("#f-label-0", Input)
        box.value = DECISION  # far wider than the box
        await until(pilot, lambda: full.display)
        room = full.content_region.width
        strips = full.render_lines(Region(0, 0, full.region.width, full.region.height))
        lines = [strip.text[full.styles.padding.left :].rstrip() for strip in strips]
        assert all(cells(line) <= room for line in lines)
        assert "".join(lines).replace(" ", "") == "zh-TW" + DECISION.replace(" ", "")  # nothing lost
        box.value = "短"
        await until(pilot, lambda: not full.display)
