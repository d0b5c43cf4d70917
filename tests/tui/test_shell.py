"""The app shell, driven with Pilot: dashboard counts, section keys, command palette, footer, keymap."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Footer, Static, Tree

from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp


def make_app(study_dir: Path, keymap: Path | None = None) -> SurveyApp:
    app = SurveyApp(open_study(study_dir), keymap_file=keymap or study_dir / "no-keymap.yaml")
    app.animation_level = "none"
    return app


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_shows_the_real_interview_counts(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    with open_study(demo_study_dir).store() as store:
        expected = {
            (m, s.replace("_", " "), (o or "—").replace("_", " ")): n for m, s, o, n in store.interview_counts()
        }
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = table_rows(app.screen.query_one("#interviews", DataTable))
        shown = {(r[0], r[1], r[2]): int(r[3]) for r in rows}
        assert shown == expected
        instruments = table_rows(app.screen.query_one("#instruments", DataTable))
        assert instruments[0][0] == "bubble_tea_brand_health" and instruments[0][2].startswith("v1")
        card = str(app.screen.query_one("#study-card", Static).render())
        config = open_study(demo_study_dir).config
        assert "茶語時光" in card
        assert f"{len(config.sources)} sources, {len(config.objectives)} objectives" in card
        assert ("approved by" in card) == (config.report_format.status == "approved")


async def test_section_keys_and_footer_descriptions(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.current_mode == "home"
        await pilot.press("2")
        assert app.current_mode == "questionnaire"
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.screen.query_one("#outline", Tree)
        labels = [str(node.label) for node in tree.root.children[0].children]
        assert any("screener" in label for label in labels)
        await pilot.press("4")
        assert app.current_mode == "fieldwork"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#interview-list", DataTable).row_count > 0
        await pilot.press("h")
        assert app.current_mode == "home"
        for binding in app.BINDINGS:
            assert binding.description and binding.id, binding  # every binding is described and has an id
        assert app.screen.query(Footer)


async def test_every_section_is_in_the_command_palette(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for section in app.sections.values():
            assert any(section.title in title for title in titles), section.title


async def test_command_palette_switches_section(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Fieldwork")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "fieldwork"


async def test_keymap_file_rebinds_a_section_key(demo_study_dir: Path, tmp_path: Path) -> None:
    keymap = tmp_path / "keymap.yaml"
    keymap.write_text("section.fieldwork: f4\n", encoding="utf-8")
    app = make_app(demo_study_dir, keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        assert app.current_mode == "fieldwork"


async def test_small_terminal_still_shows_the_dashboard(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#interviews", DataTable).row_count >= 3
