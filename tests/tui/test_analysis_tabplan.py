"""The Analysis section runs and edits the study's tab plan, and lays its tables out by display width."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.cells import cell_len
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from survey_tui.core.study import open_study
from survey_tui.tui.screens.analysis import bar_lines
from survey_tui.tui.screens.plan_forms import FormScreen
from tests.tui.test_analysis_screen import make_app, settle


async def test_tab_plan_runs_shows_footnotes_and_edits_are_checked(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#plan-input", Input).value == "tabs/main.yaml"
        screen.query_one("#stub-list", OptionList).focus()
        await pilot.press("t")
        await settle(app, pilot)
        tables = app.screen.tables
        assert tables and {t.id for t in tables} >= {"T1", "T10"}
        footnote = str(app.screen.query_one("#table-footnote", Static).render())
        assert "Base:" in footnote and "Weight: weight" in footnote
        grid = app.screen.query_one("#banner-table", DataTable)
        assert grid.row_count == len(tables[0].rows) + 2  # weighted and unweighted bases

        # a broken edit is refused with its place and nothing is written
        before = (root / "tabs" / "main.yaml").read_text("utf-8")
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        area = app.screen.query_one(TextArea)
        area.text = before.replace("stub: u1_freq", "stub: u1_nope")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error", Static).render())
        assert "Not saved" in error and "u1_nope" in error and "tabs/main.yaml:" in error
        assert (root / "tabs" / "main.yaml").read_text("utf-8") == before
        # a good edit is saved, comments kept, and the tables run again
        area.text = before.replace("Purchase frequency}", "How often people buy}")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        saved = (root / "tabs" / "main.yaml").read_text("utf-8")
        assert "How often people buy" in saved and saved.startswith("# 茶語時光")
        assert not isinstance(app.screen, FormScreen)


def test_bars_start_in_one_column_whatever_the_labels(demo_study_dir: Path) -> None:
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.analysis.tables import TableOptions, banner_tables

    data = load_dataset(open_study(demo_study_dir))
    table = banner_tables(data, ["u1_freq"], ["s4", "s3"], TableOptions(language="zh-TW"))[0]
    lines = bar_lines(table, table.rows[0])[1:]
    starts = {cell_len(line.split("█")[0].split("·")[0]) for line in lines}
    assert len(starts) == 1, starts  # CJK labels are padded by display width, not by characters
    assert len({cell_len(line) - cell_len(line.rstrip(" *ABCDEFGHIJ")) >= 0 for line in lines}) == 1
