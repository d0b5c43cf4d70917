"""The Analysis section (T1.5) driven with Pilot: quality decisions, tables with bars, coding, verdicts."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Static

from survey_tui.analysis import quality
from survey_tui.analysis.coding import coded
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.analysis import ReasonScreen


def make_app(study_dir: Path) -> SurveyApp:
    app = SurveyApp(open_study(study_dir), keymap_file=study_dir / "no-keymap.yaml")
    app.animation_level = "none"
    return app


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_quality_tables_coding_and_hypotheses(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)  # this test records decisions and codes
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        assert app.current_mode == "analysis"
        await settle(app, pilot)
        screen = app.screen
        flagged = screen.query_one("#quality-table", DataTable)
        assert flagged.row_count == len(screen.flagged) > 0
        assert "Flagged" in str(screen.query_one("#quality-summary", Static).render())

        # keep the first flagged interview, with a reason typed into the dialog
        flagged.focus()
        target = screen.flagged[0].interview_id
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press(*"phone check ok", "enter")
        await settle(app, pilot)
        with open_study(root).store() as store:
            assert quality.latest_decisions(store)[target] == ("keep", "phone check ok")

        # banner tables computed in a worker, shown with letters, and a bar view of the chosen row
        await pilot.press("t")
        await settle(app, pilot)
        assert app.screen.tables, "tables were computed"
        stubs = app.screen.query_one("#stub-list", OptionList)
        index = next(i for i, table in enumerate(app.screen.tables) if table.stub == "n2_intent")
        stubs.highlighted = index
        await pilot.pause()
        grid = app.screen.query_one("#banner-table", DataTable)
        grid.focus()
        grid.move_cursor(row=2)  # under the weighted and unweighted bases
        await pilot.pause()
        bars = str(app.screen.query_one("#bar-view", Static).render())
        assert "█" in bars or "·" in bars

        # coding: choose a5_why, type codes, progress counts move
        open_list = app.screen.query_one("#open-list", OptionList)
        names = app.screen._open_names
        open_list.focus()
        open_list.highlighted = names.index("a5_why")
        await pilot.press("enter")
        await settle(app, pilot)
        state = app.screen.coding
        assert state is not None and state.question == "a5_why" and state.items
        uncoded_before = sum(1 for v in state.items if not v.codes)
        first = state.items[state.index]
        code_input = app.screen.query_one("#code-input", Input)
        code_input.focus()
        await pilot.press("2", "space", "3", "enter")
        await settle(app, pilot)
        with open_study(root).store() as store:
            assert coded(store, "a5_why")[first.interview_id] == [2, 3]
        assert "uncoded" in str(app.screen.query_one("#coding-progress", Static).render())
        assert sum(1 for v in app.screen.coding.items if not v.codes) == max(0, uncoded_before - 1)

        # hypotheses: one row per plan hypothesis, with a verdict
        verdicts = app.screen.query_one("#hypothesis-table", DataTable)
        assert verdicts.row_count == len(open_study(root).config.hypotheses)
        assert all(str(verdicts.get_row_at(i)[-1]) for i in range(verdicts.row_count))


async def test_c_shows_the_reports_chart_of_the_table_in_the_terminal(demo_study_dir: Path) -> None:
    """The chart toggled by c is the report's chart: the same series, categories, numbers and letters
    (charts.chart_data over the engine's table), with every bar starting in the same terminal column."""
    from rich.cells import cell_len

    from survey_tui.report.charts import chart_data

    app = make_app(demo_study_dir)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        stubs = screen.query_one("#stub-list", OptionList)
        index = next(i for i, table in enumerate(screen.tables) if chart_data(table) and chart_data(table).percent)
        stubs.highlighted = index
        await pilot.pause()
        table = screen.tables[index]
        assert screen.current_table is table
        grid = screen.query_one("#banner-table", DataTable)
        grid.focus()
        await pilot.press("c")
        await pilot.pause()
        assert screen.chart_shown and not grid.display
        text = str(screen.query_one("#bar-view", Static).render())
        lines = text.splitlines()
        assert lines[0].startswith(table.title)
        data = chart_data(table)
        starts = set()
        for c, category in enumerate(data.categories):
            at = lines.index(category, 1)
            for s in range(len(data.series)):
                line = lines[at + 1 + s]
                value, letters = data.values[s][c], data.letters[s][c]
                assert line.rstrip().endswith(f"{value:.1f}% {letters}".rstrip())
                bar = line.index("█") if "█" in line else None
                if bar is not None:
                    starts.add(cell_len(line[:bar]))
        assert len(starts) == 1  # CJK series labels are padded by display width
        assert any(x for row in data.letters for x in row)  # letters are really there to be shown
        # another table while the chart is on: its chart
        other = next(i for i, tb in enumerate(screen.tables) if i != index and chart_data(tb) is not None)
        stubs.highlighted = other
        await pilot.pause()
        assert str(screen.query_one("#bar-view", Static).render()).startswith(screen.tables[other].title)
        await pilot.press("c")
        await pilot.pause()
        assert not screen.chart_shown and grid.display
