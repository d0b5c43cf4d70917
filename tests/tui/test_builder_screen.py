"""The questionnaire builder driven with Pilot: build a small questionnaire, publish it, read back the YAML."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static, TextArea

from survey_tui.core.instrument.loader import load_instrument
from survey_tui.core.study import init_study, open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.outline import Outline
from survey_tui.tui.screens.questionnaire import ConfirmScreen, QuestionForm, TextScreen


def make_app(root: Path) -> SurveyApp:
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    return app


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def fill_question(
    app: SurveyApp,
    pilot,
    name: str,
    labels: tuple[str, str],
    choices: str,  # type: ignore[no-untyped-def]
    relevant: str = "",
) -> None:
    form = app.screen
    assert isinstance(form, QuestionForm)
    form.query_one("#f-name", Input).value = name
    form.query_one("#f-label-0", Input).value = labels[0]
    form.query_one("#f-label-1", Input).value = labels[1]
    form.query_one("#f-choices", TextArea).text = choices
    form.query_one("#f-relevant", Input).value = relevant
    await pilot.pause()
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def test_build_publish_and_read_back(tmp_path: Path) -> None:
    root = tmp_path / "study"
    init_study(root, "Builder test", languages=["zh-TW", "en"])
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("n")  # start an instrument file
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, QuestionForm)
        # logic is checked while typing: an unknown name, with its position
        relevant = form.query_one("#f-relevant", Input)
        relevant.focus()
        for key in "nosuch = 1":
            await pilot.press("space" if key == " " else {"=": "equals_sign"}.get(key, key))
        await pilot.pause()
        error = str(form.query_one("#e-relevant", Static).render())
        assert "unknown name 'nosuch' at position 1" in error
        await fill_question(
            app, pilot, "drinks", ("您喝手搖飲嗎？", "Do you drink bubble tea?"), "1 | 是 | Yes\n2 | 否 | No"
        )
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, QuestionForm)
        form.query_one("#f-relevant", Input).value = "drinks = 1"
        await pilot.pause()
        assert "ok" in str(form.query_one("#e-relevant", Static).render())
        await fill_question(
            app,
            pilot,
            "freq",
            ("多久喝一次？", "How often?"),
            "1 | 每天 | Daily\n2 | 每週 | Weekly",
            relevant="drinks = 1",
        )
        said: list[str] = []
        original_notify = app.screen.notify
        app.screen.notify = lambda text, **kw: (said.append(str(text)), original_notify(text, **kw))  # type: ignore[method-assign]
        await pilot.press("P")
        assert any("Checking" in text for text in said)  # feedback at once, before the seconds of checks
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert any(text.startswith("Publishing") for text in said)
        status = str(app.screen.query_one("#builder-status", Static).render())
        assert "v1 (published, unchanged)" in status

        instrument = load_instrument(root / "instruments" / "questionnaire.yaml")
        assert [q.name for q in instrument.questions] == ["drinks", "freq"]
        assert instrument.question("freq").relevant == "drinks = 1"
        assert instrument.question("drinks").label == {"zh-TW": "您喝手搖飲嗎？", "en": "Do you drink bubble tea?"}
        assert [(c.code, c.label["en"]) for c in instrument.question("freq").choice_options] == [
            (1, "Daily"),
            (2, "Weekly"),
        ]
        with open_study(root).store() as store:
            versions = store.versions("questionnaire")
        assert len(versions) == 1 and "freq" in versions[0].source

        # delete asks first; "n" keeps the question
        tree = app.screen.query_one("#outline", Outline)
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data[1] == "freq"  # the outline follows the question just saved
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert load_instrument(root / "instruments" / "questionnaire.yaml").has_question("freq")
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert not load_instrument(root / "instruments" / "questionnaire.yaml").has_question("freq")
        status = str(app.screen.query_one("#builder-status", Static).render())
        assert "draft of v2" in status


async def test_pilot_report_view_and_revise(demo_study_dir: Path) -> None:
    app = make_app(demo_study_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen)
        assert "u8_own_cup" in app.screen.markdown
        await pilot.press("R")
        await settle(app, pilot)
        assert not isinstance(app.screen, TextScreen)
        await pilot.press("v")
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen) and "v1 → v2" in app.screen.markdown
