"""The Respondents section in the app: list, filter, status change (driven like a user would)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, Select

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.respondents import RespondentsScreen


async def _wait(pilot, condition) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


@pytest.mark.asyncio
async def test_list_filter_and_status_change(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    study = open_study(root)
    with study.store() as store:
        total = sum(resp.status_counts(store).values())
        new_count = resp.status_counts(store)["new"]
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await _wait(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        screen = app.screen
        assert isinstance(screen, RespondentsScreen)
        table = screen.query_one("#respondent-list", DataTable)
        assert screen.page_total == total and table.row_count == 50  # a window, not the whole list

        screen.query_one("#filter-status", Select).value = "new"
        await _wait(pilot, lambda: screen.page_rows and all(r.status == "new" for r in screen.page_rows))
        assert screen.page_total == new_count
        assert {str(table.get_row_at(i)[1]) for i in range(table.row_count)} == {"new"}  # English, as the screen

        table.focus()
        target = screen.current_respondent()
        assert target is not None
        await pilot.press("s")
        await _wait(pilot, lambda: app.screen.query("#pick-options"))
        options = app.screen.query_one("#pick-options", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        index = next(i for i, prompt in enumerate(prompts) if "contacted" in prompt)
        options.highlighted = index
        await pilot.press("enter")
        await _wait(pilot, lambda: screen.page_total == new_count - 1)
        assert target.id not in [r.id for r in screen.page_rows]

        await pilot.press("right_square_bracket")
        await _wait(pilot, lambda: screen.page_offset == 50)
        assert screen.page_rows and all(r.status == "new" for r in screen.page_rows)
    with study.store() as store:
        assert resp.get(store, target.id).status == "contacted"
        assert [h["new_status"] for h in resp.history(store, target.id)][-1] == "contacted"


@pytest.mark.asyncio
async def test_quota_board_shows_cells(demo_study_dir: Path, tmp_path: Path) -> None:
    study = open_study(demo_study_dir)
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await _wait(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        await pilot.press("b")
        await _wait(pilot, lambda: app.screen.query("#quota-table") and app.screen.query_one("#quota-table").row_count)
        table = app.screen.query_one("#quota-table", DataTable)
        assert table.row_count == len(study.config.quotas[0].cells())
        assert any("FULL" in str(table.get_row_at(i)[4]) for i in range(table.row_count))


@pytest.mark.asyncio
async def test_search_finds_sealed_contacts_and_the_index_goes_with_the_screen(
    demo_study_dir: Path, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from survey_tui.core.fieldwork import contact_search

    study = open_study(demo_study_dir)
    with study.store() as store:
        where = resp._where_key(store)
        contacts = resp.read_contacts(store, purpose="test: the reference")
    chen = set(contacts.filter(contacts["name"].str.contains("陳", literal=True))["respondent_id"].to_list())
    assert chen
    contact_search.drop()
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await _wait(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        screen = app.screen
        assert isinstance(screen, RespondentsScreen)
        assert contact_search.held(where) is None  # nothing opened before a search is wanted
        await pilot.press("slash")
        await _wait(pilot, lambda: contact_search.held(where) is not None)  # focusing the box prepares it
        screen.query_one("#filter-search", Input).value = "陳"
        await _wait(pilot, lambda: screen.flt.search == "陳" and {r.id for r in screen.page_rows} == chen)
        assert screen.page_total == len(chen) and all("陳" in (r.name or "") for r in screen.page_rows)
        await pilot.press("enter")  # back to the list, as a user leaves the search box
        await _wait(pilot, lambda: screen.query_one("#respondent-list", DataTable).has_focus)
        await pilot.press("h")
        await _wait(pilot, lambda: not isinstance(app.screen, RespondentsScreen))
        await _wait(pilot, lambda: contact_search.held(where) is None)  # another section: the values are dropped
