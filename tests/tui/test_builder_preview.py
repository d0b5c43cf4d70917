"""The builder's preview is the interviewer form itself, on a session that stores nothing."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from survey_tui.core.instrument.loader import load_instrument
from survey_tui.core.interview.preview import PreviewSession
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.interview import InterviewScreen, StopScreen
from survey_tui.tui.screens.questionnaire import QuestionnaireScreen

TABLES = ("interviews", "answers", "interview_events", "audit_log", "respondents", "instrument_versions")
INSTRUMENT = Path("instruments") / "bubble_tea_brand_health.yaml"


def counts(root: Path) -> dict[str, int]:
    with open_study(root).store() as store:
        return {t: int(store.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in TABLES}


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def text_of(screen: InterviewScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Static).content)  # the text given to the widget


def test_preview_session_uses_the_engine_and_keeps_nothing(demo_study_dir: Path) -> None:
    instrument = load_instrument(demo_study_dir / INSTRUMENT)
    session = PreviewSession.open(instrument, "en")
    assert session.preview and session.interview_id is None and not session.needs_consent
    assert session.engine.current is not None and session.engine.current.name == "s1"
    assert session.engine.submit(None).accepted
    assert not session.engine.submit(5).accepted  # the real validation (s2: min 12)
    assert session.engine.submit(30).accepted
    assert session.next_language() == "zh-TW"
    session.suspend()
    assert session.outcome == "suspended"


async def test_preview_runs_the_interviewer_form_without_saving(demo_study_dir: Path) -> None:
    before = counts(demo_study_dir)
    source = (demo_study_dir / INSTRUMENT).read_bytes()
    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert isinstance(screen.session, PreviewSession)
        assert "PREVIEW — NOTHING SAVED" in text_of(screen, "#iv-status")
        engine = screen.session.engine
        await pilot.press("enter")  # s1 is a note
        for key in ("2", "5", "enter"):  # s2 age
            await pilot.press(key)
        await pilot.press("2")  # s3: a single choice moves on by itself
        await pilot.press("1")  # s4
        await pilot.press("1")  # s5
        for key in ("9", "7", "enter"):  # s6 multi: 97 none of these (one key per code)
            await pilot.press(key)
        await pilot.pause()
        assert engine.current is not None and engine.current.name == "a1_tom"
        await pilot.press("f8")  # don't know on an open question
        await pilot.pause()
        assert engine.answers["s2"].value == 25 and engine.answers["s3"].value == 2
        assert engine.answers["s6"].value == [97]
        assert engine.answers["a1_tom"].special == "dont_know"
        assert engine.current is not None and engine.current.name != "a1_tom"
        await pilot.press("pageup")  # back: the form shows the answer kept
        await pilot.pause()
        assert engine.current is not None and engine.current.name == "a1_tom"
        assert text_of(screen, "#iv-message") != ""
        await pilot.press("escape")  # leave the preview
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)

        # F10 ends a preview like an interview, but the end screen says nothing was kept
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, InterviewScreen)
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, StopScreen)
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.stage == "done"
        label = text_of(screen, "#iv-label")
        assert "Nothing was saved" in label or "沒有儲存任何資料" in label
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
    assert counts(demo_study_dir) == before
    assert (demo_study_dir / INSTRUMENT).read_bytes() == source


async def test_preview_starts_at_the_highlighted_question(demo_study_dir: Path) -> None:
    from survey_tui.tui.outline import Outline

    before = counts(demo_study_dir)
    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        tree = app.screen.query_one("#outline", Outline)
        for _ in range(200):  # down the outline to a question deep in the brand section
            node = tree.cursor_node
            if node is not None and node.data and node.data[1] == "a4_bumo":
                break
            await pilot.press("down")
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        engine = screen.session.engine
        assert engine.current is not None and engine.current.name == "a4_bumo"
        assert "a3_ever" in engine.path  # the quick path answered the questions before it
        await pilot.press("pageup")  # and they can be changed
        await settle(app, pilot)
        assert engine.current.name == "a3_ever"
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
    assert counts(demo_study_dir) == before  # nothing stored
