"""`?` lists the keys of every screen: each section, each sub-screen and form pushed over one, the call
screen, the interview form and its dialogs.

Textual stops a modal screen's keys at the modal, so the app's `?` never reached the rates or back-check
screens nor any form. This visits every screen class of the app the way a user reaches it, presses `?`
(F1 where an input box takes the `?`), and finds the screen's own keys in the overlay. A screen class the
walk does not reach fails the test, so a new screen has to be added here, and so has to answer `?`.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, HelpPanel, Input, TextArea
from textual.widgets._key_panel import BindingsTable

import survey_tui.tui.screens as screens_package
from survey_tui import i18n
from survey_tui.core.interview.capture import start_session
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.interview_app import InterviewApp
from tests.capture.helpers import make_study


def app_screen_classes() -> set[type[Screen]]:
    """Every Screen subclass the app defines (its screens package and the modal base)."""
    for module in pkgutil.iter_modules(screens_package.__path__):
        importlib.import_module(f"{screens_package.__name__}.{module.name}")

    def below(cls: type) -> set[type]:
        found = set()
        for sub in cls.__subclasses__():
            found |= {sub} | below(sub)
        return found

    return {c for c in below(Screen) if c.__module__.startswith("survey_tui.tui.screens.")}


async def until(pilot, condition: Callable[[], object], what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError(f"not reached: {what}")


def listed(screen: Screen) -> str:
    """The descriptions the key overlay shows, one per line."""
    table = screen.query_one(BindingsTable).render_bindings_table()
    return "\n".join(str(cell) for cell in table.columns[1].cells)


async def check_keys(pilot, visited: set[type[Screen]]) -> None:  # type: ignore[no-untyped-def]
    """`?` on the screen on top: the overlay opens and lists the screen's own keys; `?` again closes it."""
    app = pilot.app
    screen = app.screen
    typing = isinstance(app.focused, Input | TextArea)  # the box takes `?` as a character: F1 then
    key = "f1" if typing else "question_mark"
    await pilot.press(key)
    await until(pilot, lambda: screen.query(HelpPanel) and screen.query(BindingsTable), f"? on {type(screen)}")
    text = listed(screen)
    active = screen.active_bindings
    own = [b for b in type(screen).BINDINGS if not isinstance(b, tuple) and b.description]
    assert own, type(screen)
    for binding in own:
        first = binding.key.split(",")[0]
        if first in active and active[first].node is screen:  # not shadowed by a focused widget's own key
            assert i18n._(binding.description) in text, (type(screen).__name__, binding.description, text)
    assert i18n._("Keys") in text  # and the key that opened it
    await pilot.press(key)
    await until(pilot, lambda: not screen.query(HelpPanel), f"? closing on {type(screen)}")
    visited.add(type(screen))


async def visit(pilot, key: str, expected: str, visited: set[type[Screen]]) -> None:  # type: ignore[no-untyped-def]
    """Press `key`, check the screen it opens, its `?`, then leave it with Escape."""
    app = pilot.app
    depth = len(app.screen_stack)
    await pilot.press(key)
    await until(pilot, lambda: type(app.screen).__name__ == expected, expected)
    await until(pilot, lambda: not any(w.is_running for w in app.workers), f"{expected} loaded")
    await check_keys(pilot, visited)
    await pilot.press("escape")
    await until(pilot, lambda: len(app.screen_stack) == depth, f"{expected} closed")


async def section(pilot, key: str, expected: str, visited: set[type[Screen]]) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await until(pilot, lambda: type(pilot.app.screen).__name__ == expected, expected)
    await until(pilot, lambda: not any(w.is_running for w in pilot.app.workers), f"{expected} loaded")
    await check_keys(pilot, visited)


async def in_app(app, size: tuple[int, int], walk: Callable[..., Awaitable[None]]) -> None:  # type: ignore[no-untyped-def]
    app.animation_level = "none"
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await walk(pilot)


async def test_question_mark_lists_the_keys_of_every_screen(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "demo-study"
    shutil.copytree(demo_study_dir, root)  # the call screen leases a case
    visited: set[type[Screen]] = set()

    async def walk(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await section(pilot, "h", "HomeScreen", visited)

        await section(pilot, "1", "PlanScreen", visited)
        await visit(pilot, "n", "SampleSizeScreen", visited)
        await pilot.press("]")  # desk research sources: add and delete forms
        await visit(pilot, "a", "FormScreen", visited)
        plan = app.screen
        plan.query_one("#plan-sources", DataTable).focus()
        await visit(pilot, "x", "ConfirmScreen", visited)

        await section(pilot, "2", "QuestionnaireScreen", visited)
        for _ in range(3):  # down to the first question of the outline
            await pilot.press("down")
        await visit(pilot, "e", "QuestionForm", visited)
        await visit(pilot, "s", "SectionForm", visited)
        await visit(pilot, "x", "ConfirmScreen", visited)
        await visit(pilot, "i", "SettingsForm", visited)
        await visit(pilot, "v", "TextScreen", visited)
        await visit(pilot, "T", "TerminateRulesScreen", visited)
        await pilot.press("T")
        await until(pilot, lambda: type(app.screen).__name__ == "TerminateRulesScreen", "terminate rules")
        await visit(pilot, "a", "TerminateForm", visited)
        await pilot.press("escape")
        await pilot.press("p")  # the preview: the interview form answers `?` with its own key list
        await until(pilot, lambda: type(app.screen).__name__ == "InterviewScreen", "preview")
        await pilot.press("f1" if isinstance(app.focused, Input) else "question_mark")  # an answer box takes `?`
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "interview help")
        visited.update({type(app.screen_stack[-2]), type(app.screen)})
        await pilot.press("question_mark")  # ? closes it again
        await until(pilot, lambda: type(app.screen).__name__ == "InterviewScreen", "help closed")
        await pilot.press("escape")

        await section(pilot, "3", "RespondentsScreen", visited)
        app.screen.query_one("#respondent-list", DataTable).focus()
        await visit(pilot, "s", "PickScreen", visited)
        await visit(pilot, "a", "AskScreen", visited)
        await visit(pilot, "w", "WithdrawScreen", visited)
        await visit(pilot, "b", "QuotaBoardScreen", visited)
        await visit(pilot, "m", "ImportScreen", visited)

        await section(pilot, "4", "FieldworkScreen", visited)
        for key, name in (("a", "RatesScreen"), ("d", "ProductivityScreen"), ("k", "BackcheckScreen")):
            await visit(pilot, key, name, visited)
        await visit(pilot, "v", "SupervisorScreen", visited)
        await visit(pilot, "n", "StartScreen", visited)
        await pilot.press("c")  # who makes the calls, then the call screen
        await until(pilot, lambda: type(app.screen).__name__ == "AskScreen", "interviewer name")
        app.screen.query_one(Input).value = "陳怡君"
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "CallScreen", "call screen")
        await until(pilot, lambda: not any(w.is_running for w in app.workers), "call screen loaded")
        await check_keys(pilot, visited)
        await pilot.press("escape")

        await section(pilot, "5", "AnalysisScreen", visited)
        from survey_tui.tui.screens.analysis import ReasonScreen

        app.push_screen(ReasonScreen("Exclude interview 1: why?"))  # x on a flagged interview opens it
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "reason")
        await check_keys(pilot, visited)
        await pilot.press("escape")

        await section(pilot, "6", "ExportScreen", visited)
        app.screen.query_one("#export-contacts", Checkbox).value = True  # asks before contacts go out
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmContacts", "contacts warning")
        await check_keys(pilot, visited)
        await pilot.press("escape")

    await in_app(SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml"), (120, 40), walk)

    study = make_study(tmp_path / "small", consent=False)

    async def interview(pilot) -> None:  # type: ignore[no-untyped-def]
        await visit(pilot, "f2", "NoteScreen", visited)
        await visit(pilot, "f10", "StopScreen", visited)

    await in_app(InterviewApp(study, session=start_session(study, interviewer="amy"), once=True), (80, 24), interview)

    missing = sorted(f"{c.__module__}.{c.__name__}" for c in app_screen_classes() - visited)
    assert not missing, f"screens the walk does not reach (add them here): {missing}"
