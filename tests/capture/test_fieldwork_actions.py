"""The Fieldwork section opens the form: a new interview from the start list, and resume of a row."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from survey_tui.core.interview.capture import CaptureSession, start_session
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import Study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.interview import InterviewScreen, StartScreen
from tests.capture.helpers import make_study


def suspended_interview_app(tmp_path: Path) -> tuple[Study, CaptureSession, SurveyApp]:
    """A study with one field interview suspended after its first answer, and the app on it."""
    study = make_study(tmp_path / "s", consent=False)
    first = start_session(study, interviewer="amy")
    first.engine.submit("30")
    first.suspend()
    first.close()
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    return study, first, app


async def test_fieldwork_starts_and_resumes_interviews(tmp_path: Path) -> None:
    study, first, app = suspended_interview_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u")  # resume the selected (only) interview
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        assert app.screen.session.engine.current.name == "drinks"
        await pilot.press("2")  # drinks: no
        await pilot.pause()
        assert app.screen.session.engine.current.name == "spend"
        await pilot.press("f10", "s")
        await pilot.pause()
        await pilot.press("enter")  # close the end screen
        await pilot.pause()
        await pilot.press("p")  # a new pilot interview from the start list
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert app.screen.query_one(DataTable).row_count >= 2  # walk-in + the suspended interview
        assert app.focused is app.screen.query_one("#iv-interviewer")  # nobody named yet: the name comes first
        await pilot.press("a", "m", "y", "enter")  # the name, then Enter moves to the list
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.focused is app.screen.query_one(DataTable)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        assert app.screen.session.interview.mode == "pilot"
        assert app.screen.session.interview.interviewer == "amy"
    with Store(study.db_path) as store:
        assert set(store.answers(first.interview_id)) == {"age", "drinks"}
        assert [r.mode for r in store.interviews()] == ["field", "pilot"]


async def test_app_shortcuts_cannot_interrupt_an_interview(tmp_path: Path) -> None:
    _, _, app = suspended_interview_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        await pilot.press("q", "h", "2")  # 'q' and 'h' are app keys elsewhere; here they must do nothing
        await pilot.pause()
        assert app.is_running and app.current_mode == "fieldwork"
        assert isinstance(app.screen, InterviewScreen)
        assert app.screen.session.engine.current.name == "spend"  # the '2' still answered 'drinks'
