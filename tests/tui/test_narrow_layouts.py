"""At 80 columns nothing is cut: export format labels wrap in their pane, the quality review's reasons wrap in
their rows instead of running off the screen, the question form's boxes keep room for their text, the
contact import's hints and placeholders show whole. Widths are display cells, measured with wcwidth."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Checkbox, DataTable, Input, Label
from wcwidth import wcswidth

from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp


def no_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


def drawn_text(widget) -> str:  # type: ignore[no-untyped-def]
    """What the widget draws, all its lines joined."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "".join(strip.text for strip in strips)


async def _until(pilot, condition: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


def make_app(root: Path, lang: str) -> SurveyApp:
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    return app


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_at_80_columns_labels_wrap_instead_of_being_cut(demo_study_dir: Path, lang: str) -> None:
    app = make_app(demo_study_dir, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await _until(pilot, lambda: app.screen.query("#export-options"))
        pane = app.screen.query_one("#export-options")
        boxes = list(pane.query(Checkbox))
        assert len(boxes) >= 10
        for box in boxes:
            assert box.region.right <= pane.region.right
            assert no_spaces(str(box.label)) in no_spaces(drawn_text(box)), str(box.label)  # whole, maybe wrapped

        await pilot.press("5")
        await _until(
            pilot, lambda: app.screen.query("#quality-table") and app.screen.query_one("#quality-table").row_count
        )
        table = app.screen.query_one("#quality-table", DataTable)
        room = table.size.width - table.styles.scrollbar_size_vertical
        assert table.virtual_size.width <= room  # no column past the screen's edge
        reason = list(table.columns.values())[-1]
        for row_key in list(table.rows)[:5]:
            text = str(table.get_row(row_key)[-1])
            lines = -(-wcswidth(text) // reason.width)  # at least this many lines to show it all
            assert table.rows[row_key].height >= lines, (text, reason.width)


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_at_80_columns_forms_keep_room_for_their_text(demo_study_dir: Path, lang: str) -> None:
    app = make_app(demo_study_dir, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await _until(pilot, lambda: app.screen.query("#outline") and app.screen.query_one("#outline").option_count)
        await pilot.press("down", "down", "down", "e")
        await _until(pilot, lambda: app.screen.query("#f-name"))
        name = app.screen.query_one("#f-name", Input)
        assert name.content_size.width > wcswidth(name.value)  # its text and the cursor (it was 0 wide)
        await pilot.press("escape")

        await pilot.press("3")
        await _until(pilot, lambda: getattr(app.screen, "page_rows", None))
        await pilot.press("m")
        await _until(pilot, lambda: app.screen.query("#import-path"))
        for box in app.screen.query(".import-row Input").results(Input):
            assert box.content_size.width >= wcswidth(box.placeholder), box.placeholder  # not cut
        hint = next(label for label in app.screen.query(Label) if "dim" in label.classes)
        assert no_spaces(str(hint.render())) in no_spaces(drawn_text(hint))
