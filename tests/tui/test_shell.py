"""The app shell, driven with Pilot: dashboard counts, section keys, command palette, footer, keymap."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Footer, Static

from survey_tui.core.study import open_study
from survey_tui.tui.app import SECTIONS, SurveyApp
from survey_tui.tui.outline import Outline


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
        tree = app.screen.query_one("#outline", Outline)
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


async def palette_run(app: SurveyApp, pilot, query: str) -> None:  # type: ignore[no-untyped-def]
    """Type `query` in the command palette and take its first hit."""
    from textual.command import CommandPalette

    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_palette_lists_every_section_action_with_its_key(demo_study_dir: Path) -> None:
    from survey_tui.tui.commands import section_commands

    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)):
        commands = list(section_commands(app))
        titles = {c.title for c in commands}
        for wanted in ("Questionnaire: Publish", "Questionnaire: Preview", "Questionnaire: Versions",
                       "Report: Export", "Report: Report", "Fieldwork: New interview", "Respondents: Import",
                       "Analysis: Tables"):  # fmt: skip
            assert wanted in titles, wanted
        described = sum(len([b for b in s.screen.BINDINGS if getattr(b, "description", "")]) for s in SECTIONS)
        assert len(commands) == described  # every described key of every section, none invented
        publish = next(c for c in commands if c.title == "Questionnaire: Publish")
        assert publish.key == "P" and "version" in publish.help


async def test_palette_finds_and_runs_section_actions(demo_study_dir: Path) -> None:
    from survey_tui.tui.screens.interview import StartScreen

    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await palette_run(app, pilot, "new interview")
        assert app.current_mode == "fieldwork"
        assert isinstance(app.screen, StartScreen)  # the action ran, as the key n would
        await pilot.press("escape")
        await pilot.pause()
        await palette_run(app, pilot, "quota board")  # found by its description
        assert app.current_mode == "respondents"
        assert len(app.screen_stack) == 2  # the quota board opened over the section


def footer_keys(app: SurveyApp) -> list[tuple[str, int, int]]:
    """(key, first column, last column + 1) of every key the footer shows, as laid out on screen."""
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    return [(k.key, k.region.x, k.region.right) for k in footer.query(FooterKey) if not k.has_class("-command-palette")]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_footers_fit_and_keep_sections_quit_and_keys(demo_study_dir: Path, size: tuple[int, int]) -> None:
    from textual.widgets._footer import FooterKey

    app = make_app(demo_study_dir)
    async with app.run_test(size=size) as pilot:
        for section in SECTIONS:
            if section.mode == "analysis":
                continue  # that screen is being rewritten with its own footer
            await pilot.press(section.key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            keys = footer_keys(app)
            palette = app.screen.query_one(Footer).query_one(".-command-palette", FooterKey).region
            assert keys and all(right <= palette.x for _, _, right in keys), (section.mode, keys)
            shown = {key for key, _, _ in keys}
            assert {s.key for s in SECTIONS} | {"q", "question_mark"} <= shown, (section.mode, shown)
            first = next(b for b in section.screen.BINDINGS if b.show)
            assert first.key in shown  # the screen's most important key is never the one dropped
            hidden = [b for b in section.screen.BINDINGS if b.show and b.key not in shown]
            if size == (120, 40) and section.mode == "questionnaire":
                assert {"p", "P", "v", "t"} <= shown  # preview, publish, versions, pilot
            for binding in hidden:  # a key the footer has no room for is in the palette
                assert binding.description and binding.id
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")  # every key of the screen, described


async def test_interview_footer_keeps_help_at_80_columns(tmp_path: Path) -> None:
    from survey_tui.core.interview.capture import start_session
    from survey_tui.tui.interview_app import InterviewApp
    from tests.capture.helpers import make_study

    study = make_study(tmp_path / "s", consent=False)
    app = InterviewApp(study, session=start_session(study, interviewer="amy"), once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = footer_keys(app)  # type: ignore[arg-type]
        assert {"enter", "pageup", "f8", "f9", "f1", "f10"} <= {k for k, _, _ in keys}
        assert all(right <= 80 for _, _, right in keys)


async def test_home_reads_the_study_again_when_shown(tmp_path: Path) -> None:
    from survey_tui.core.interview.capture import start_session
    from tests.capture.helpers import make_study

    study = make_study(tmp_path / "s", consent=False)
    app = make_app(study.root)

    def interviews() -> int:
        rows = table_rows(app.screen.query_one("#interviews", DataTable))
        return sum(int(r[3]) for r in rows if r[3].isdigit())

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        before = interviews()
        start_session(study, interviewer="amy").close()  # data changes behind the screen's back
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.press("h")  # back home: no 'r' needed
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if interviews() == before + 1:
                break
        assert interviews() == before + 1


async def test_home_reads_the_study_once_at_start(demo_study_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first screen reads the study once (it was read twice, by two workers racing for the start)."""
    from survey_tui.tui.app import SurveyApp

    calls: list[Path] = []
    real = SurveyApp.read_summary

    def counting(self: SurveyApp):  # type: ignore[no-untyped-def]
        calls.append(self.root)
        return real(self)

    monkeypatch.setattr(SurveyApp, "read_summary", counting)
    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if "completed in the field" in str(app.screen.query_one("#study-card", Static).render()):
                break
        assert "completed in the field" in str(app.screen.query_one("#study-card", Static).render())
        assert len(calls) == 1
        await pilot.press("r")  # an explicit refresh still reads it again
        await app.workers.wait_for_complete()
        assert len(calls) == 2


async def test_a_start_from_the_cache_shows_the_same_home_and_opens_the_study_behind_it(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`survey-tui STUDY` on a study read before starts on the folder (SurveyApp.on_folder): the home card
    and tables are those of a start on the open study, and the study is opened once they are shown."""
    from survey_tui.core.summary import kept_facts, summarise_study

    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    summarise_study(open_study(demo_study_dir))
    facts = kept_facts(demo_study_dir)
    assert facts is not None

    async def home(app: SurveyApp) -> tuple[str, list[list[str]], list[list[str]]]:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if "completed in the field" in str(app.screen.query_one("#study-card", Static).render()):
                    break
            shown = (
                str(app.screen.query_one("#study-card", Static).render()),
                table_rows(app.screen.query_one("#instruments", DataTable)),
                table_rows(app.screen.query_one("#interviews", DataTable)),
            )
            await app.workers.wait_for_complete()
            assert app._study is not None  # opened behind the figures
            await pilot.press("2")
            await pilot.pause()
            assert app.current_mode == "questionnaire"
            return shown

    quick = SurveyApp.on_folder(demo_study_dir, facts["title"], keymap_file=demo_study_dir / "no-keymap.yaml")
    assert quick._study is None and quick.sub_title == open_study(demo_study_dir).config.title
    assert await home(quick) == await home(make_app(demo_study_dir))
