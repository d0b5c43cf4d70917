"""The Respondents list fits its width: at 80 columns the essentials, more columns as the terminal widens,
never a list that scrolls sideways; every column as wide as its widest cell by display width (wcwidth)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable
from wcwidth import wcswidth

from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.respondents import COLUMNS, PRIORITY, RespondentsScreen, choose_columns


def test_choose_columns_keeps_the_longest_run_of_priorities_that_fits() -> None:
    widths = {key: 10 for key, _header in COLUMNS}  # 12 cells each with padding
    assert choose_columns(widths, 12 * 4) == ["id", "status", "interviewer", "attempts"]
    assert choose_columns(widths, 12 * 4 + 11) == ["id", "status", "interviewer", "attempts"]  # no half column
    assert choose_columns(widths, 12 * 10) == [key for key, _header in COLUMNS]  # all, in the list's order
    assert choose_columns(widths, 3) == ["id"]  # the id always shows
    shown = choose_columns(widths, 12 * 6)
    assert set(shown) == set(PRIORITY[:6]) and shown == [k for k, _h in COLUMNS if k in shown]


async def _until(pilot, condition: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


async def _measure(pilot, size: tuple[int, int]) -> list[str]:  # type: ignore[no-untyped-def]
    """The columns the list shows at `size`, after checking they fit without sideways scrolling."""
    from survey_tui import i18n

    app = pilot.app
    screen = app.screen
    assert isinstance(screen, RespondentsScreen)
    table = screen.query_one("#respondent-list", DataTable)
    await _until(pilot, lambda: table.size.width and screen.shown_columns and app.size == size)
    await _until(pilot, lambda: len(table.columns) == len(screen.shown_columns))
    room = table.size.width - table.styles.scrollbar_size_vertical
    assert table.virtual_size.width <= room, (size, table.virtual_size.width, room)  # no sideways scroll
    assert table.max_scroll_x == 0
    headers = dict(COLUMNS)
    for index, (column, key) in enumerate(zip(table.columns.values(), screen.shown_columns, strict=True)):
        cells = [str(table.get_cell_at((row, index))) for row in range(5)]
        widest = max(wcswidth(text) for text in [i18n._(headers[key]), *cells])
        assert column.width >= widest  # by display width: a name in Chinese is not cut
    return list(screen.shown_columns)


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_list_fits_80_and_widens_at_120(demo_study_dir: Path, lang: str) -> None:
    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    seen: dict[int, list[str]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await _until(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        for size in ((80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            seen[size[0]] = await _measure(pilot, size)
        screen = app.screen
        assert isinstance(screen, RespondentsScreen)
        table = screen.query_one("#respondent-list", DataTable)
        assert seen[80][:4] == ["id", "status", "interviewer", "attempts"]
        assert len(seen[120]) > len(seen[80]) and "appointment" in seen[120] and "name" in seen[120]
        assert str(table.get_row_at(0)[0]) == screen.page_rows[0].id  # the rows still start with the id
