"""Sections edited through the builder with Pilot: labels side by side, relevant checked as typed, add, delete."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Static

from survey_tui.core.instrument.loader import load_instrument
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.outline import Outline
from survey_tui.tui.screens.questionnaire import ConfirmScreen, QuestionnaireScreen, SectionForm

INSTRUMENT = Path("instruments") / "bubble_tea_brand_health.yaml"
KEYS = {" ": "space", "=": "equals_sign", "<": "less_than_sign"}


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for key in text:
        await pilot.press(KEYS.get(key, key))


def rendered(widget: Static) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(widget.content)  # type: ignore[arg-type]
    return console.export_text()


def highlight_section(screen: QuestionnaireScreen, name: str) -> None:
    tree = screen.query_one("#outline", Outline)
    for node_id, (info, index) in screen.section_nodes.items():
        if info.draft.section(index).get("name") == name:
            tree.move_cursor(tree.get_node_by_id(node_id))
            return
    raise AssertionError(f"no section {name} in the outline")


async def test_edit_add_and_delete_sections(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    comments_before = [ln for ln in (root / INSTRUMENT).read_text("utf-8").splitlines() if ln.strip().startswith("#")]
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, QuestionnaireScreen)
        highlight_section(screen, "usage")
        await pilot.pause()
        assert "Drinking habits" in rendered(screen.query_one("#detail", Static))
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SectionForm)
        # labels side by side, one input per study language
        assert form.query_one("#s-label-0", Input).value == "飲用習慣"
        assert form.query_one("#s-label-1", Input).value == "Drinking habits"
        form.query_one("#s-label-0", Input).value = "手搖飲飲用習慣"
        form.query_one("#s-label-1", Input).value = "Bubble tea habits"
        relevant = form.query_one("#s-relevant", Input)
        relevant.focus()
        await type_text(pilot, "b1_consider = 1")  # asked later: flagged as typed, with the position
        await pilot.pause()
        error = str(form.query_one("#e-relevant", Static).render())
        assert "asked later" in error and "position 1" in error
        relevant.value = ""
        await type_text(pilot, "s5 = 1 and s2 < 60")
        await pilot.pause()
        assert "ok" in str(form.query_one("#e-relevant", Static).render())
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)

        instrument = load_instrument(root / INSTRUMENT)
        usage = next(s for s in instrument.sections if s.name == "usage")
        assert usage.label == {"zh-TW": "手搖飲飲用習慣", "en": "Bubble tea habits"}
        assert usage.relevant == "s5 = 1 and s2 < 60"
        text = (root / INSTRUMENT).read_text("utf-8")
        assert [ln for ln in text.splitlines() if ln.strip().startswith("#")] == comments_before

        # add a section after usage, then delete it (it is empty; the builder asks first)
        highlight_section(app.screen, "usage")  # type: ignore[arg-type]
        await pilot.press("S")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SectionForm)
        form.query_one("#s-name", Input).value = "closing"
        form.query_one("#s-label-0", Input).value = "結尾"
        form.query_one("#s-label-1", Input).value = "Closing"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        names = [s.name for s in load_instrument(root / INSTRUMENT).sections]
        assert names[names.index("usage") + 1] == "closing"
        highlight_section(app.screen, "closing")  # type: ignore[arg-type]
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert "closing" not in [s.name for s in load_instrument(root / INSTRUMENT).sections]
        # a section with questions is not deleted
        highlight_section(app.screen, "usage")  # type: ignore[arg-type]
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, QuestionnaireScreen)
        assert "usage" in [s.name for s in load_instrument(root / INSTRUMENT).sections]
    assert (root / INSTRUMENT).read_text("utf-8") == text


async def test_question_form_edits_the_remaining_fields(demo_study_dir: Path, tmp_path: Path) -> None:
    from textual.widgets import Select

    from survey_tui.tui.screens.questionnaire import QuestionForm

    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, QuestionnaireScreen)
        screen.select_after = "a1_tom"
        screen.load()
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, QuestionForm) and form.name_before == "a1_tom"
        assert form.query_one("#f-special_codes", Select).value == "default"
        assert form.query_one("#f-max_length", Input).value == "200"
        form.query_one("#f-max_length", Input).value = "300"
        form.query_one("#f-special_codes", Select).value = "off"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
        await pilot.press("e")  # the outline follows the saved question; a bad number is refused, nothing saved
        await pilot.pause()
        form = app.screen
        assert isinstance(form, QuestionForm) and form.name_before == "a1_tom"
        form.query_one("#f-max_length", Input).value = "many"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a whole number" in str(form.query_one("#f-error", Static).render())
        await pilot.press("escape")
        await settle(app, pilot)
    q = load_instrument(root / INSTRUMENT).question("a1_tom")
    assert (q.max_length, q.special_codes) == (300, False)
    assert not q.specials


async def test_the_section_form_edits_a_loop_and_shows_a_refused_one(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        highlight_section(app.screen, "brand_loop")  # type: ignore[arg-type]
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SectionForm)
        assert form.query_one("#s-loop-over", Input).value == "a2_aided"
        assert form.query_one("#s-loop-exclude", Input).value == "96"
        assert form.query_one("#s-loop-label-1", Input).value == "Brand"
        form.query_one("#s-loop-exclude", Input).value = "1, 96"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
        assert load_instrument(root / INSTRUMENT).loops["brand_loop"].keys == (2, 3, 4, 5, 6, 7, 8, 9)
        # a count over a question asked later: refused with the loader's words, the loop stays as it was
        highlight_section(app.screen, "brand_loop")  # type: ignore[arg-type]
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SectionForm)
        form.query_one("#s-loop-over", Input).value = ""
        form.query_one("#s-loop-exclude", Input).value = ""
        form.query_one("#s-loop-count", Input).value = "d4_household"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any("asked later" in n.message and "loop not changed" in n.message for n in app._notifications)
        assert load_instrument(root / INSTRUMENT).loops["brand_loop"].source == "a2_aided"
