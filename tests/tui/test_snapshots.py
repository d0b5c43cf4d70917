"""Screenshots of every section and of the interviewer form, at 80x24 and 120x40, in both interface languages.

pytest-textual-snapshot compares each against the SVG kept in `__snapshots__/`; after an intended change of
the layout, look at the new pictures (`pytest --snapshot-report`) and accept them with `--snapshot-update`.
They are reproducible: the demo study is built here with a fixed seed (its dates are fixed) and seeded
respondent ids, the study folder is shown relative to the current folder, and the interview clock is frozen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from survey_tui.core.interview.preview import PreviewSession
from survey_tui.core.study import open_study
from survey_tui.tui import app as app_module
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.interview_app import InterviewApp
from survey_tui.tui.screens import interview as interview_screen

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
LANGUAGES = ("en", "zh-TW")


#: builds the demo in a fresh interpreter with a cold YAML cache, so nothing earlier in the test run (a
#: warm cache, other random draws) can change it; respondent ids and interview uuids are random by design
BUILD = """
import random, sys, uuid
from pathlib import Path
from survey_tui.core.fieldwork import respondents
from survey_tui.core.store import sqlite
from survey_tui.demo.build import build_demo

ids, uuids = random.Random(7), random.Random(8)
respondents.secrets.randbits = ids.getrandbits
sqlite.uuidlib.uuid4 = lambda: uuid.UUID(int=uuids.getrandbits(128), version=4)
build_demo(Path(sys.argv[1]), interviews=120, seed=7)
"""


@pytest.fixture(scope="module")
def snapshot_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo study of the snapshots' own (other tests change theirs), always named demo-study."""
    target = tmp_path_factory.mktemp("snapshots") / "demo-study"
    env = {**os.environ, "SURVEY_TUI_CACHE_DIR": str(tmp_path_factory.mktemp("snapshot-cache"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", BUILD, str(target)], check=True, env=env, timeout=600)
    return target


@pytest.fixture
def steady(snapshot_demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(snapshot_demo.parent)  # the Home card shows "demo-study", not a temporary path
    monkeypatch.setattr(interview_screen, "clock", lambda: 1000.0)  # elapsed time 0:00 however slow the run
    return snapshot_demo


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Until no worker runs and the screen has painted what they posted (workers may start more workers)."""
    app = pilot.app
    quiet = 0
    for _round in range(60):  # three quiet rounds in a row: the last message has been handled and painted
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        quiet = quiet + 1 if not any(w.is_running or w.state.name == "PENDING" for w in app.workers) else 0
        if quiet >= 3:
            break


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("mode", [s.mode for s in app_module.SECTIONS])
def test_section(snap_compare, steady: Path, mode: str, size: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    app = SurveyApp(open_study(steady), keymap_file=steady / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"

    async def open_section(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await app.switch_mode(mode)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=open_section)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", list(SIZES))
def test_interview_form(snap_compare, steady: Path, size: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The form at a multi choice whose list an earlier answer narrows (a3_ever), reached by the quick path.
    The instrument speaks zh-TW in both: the interface language is chosen apart from it."""
    study = open_study(steady)
    session = PreviewSession.open(study.load_instrument(), "zh-TW", start_at="a3_ever")
    app = InterviewApp(study, session=session, once=True, ui_lang=lang)  # type: ignore[arg-type]
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle)


#: Fieldwork's sub-screens, opened by their key from the Fieldwork section
FIELDWORK_KEYS = {"supervisor": "v", "productivity": "d", "backchecks": "k", "rates": "a", "rates-quota": "agg"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("screen", list(FIELDWORK_KEYS))
def test_fieldwork_screen(snap_compare, steady: Path, screen: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The supervisor's view, productivity, back-checks and the rates (by interviewer; by quota cell, labelled)
    at 80x24: every column inside the screen, in both interface languages."""
    app = SurveyApp(open_study(steady), keymap_file=steady / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"

    async def open_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await app.switch_mode("fieldwork")
        await settle(pilot)
        for key in FIELDWORK_KEYS[screen]:
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_screen)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_call_screen(snap_compare, snapshot_demo: Path, tmp_path: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The call screen at 80x24 on a fixed clock, in a copy of the demo (taking a case leases it): the case, its
    history and one key per outcome, each key's words kept on one line."""
    import shutil
    from datetime import UTC, datetime

    from survey_tui.tui.screens.calls import CallScreen

    study_dir = tmp_path / "demo-study"
    shutil.copytree(snapshot_demo, study_dir)
    app = SurveyApp(open_study(study_dir), keymap_file=study_dir / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    monday_10 = datetime(2026, 10, 26, 2, 0, tzinfo=UTC)  # 10:00 in Taipei

    async def open_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await app.switch_mode("fieldwork")
        await settle(pilot)
        app.push_screen(CallScreen("陳怡君", clock=lambda: monday_10))  # the screen `c` opens, on a fixed clock
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_screen)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_questionnaire_outline_wrapped(snap_compare, steady: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The outline at 80x24 down at a2_aided: every long prompt wrapped by display width, none cut."""
    from survey_tui.tui.outline import Outline

    app = SurveyApp(open_study(steady), keymap_file=steady / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"

    async def open_outline(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await app.switch_mode("questionnaire")
        await settle(pilot)
        outline = app.screen.query_one("#outline", Outline)
        outline.move_cursor(next(r for r in outline.rows if r.data and r.data[1] == "a2_aided"))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_outline)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_keys_over_a_modal_screen(snap_compare, steady: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    """`?` over Fieldwork's rates (a modal screen) at 80x24: the overlay with that screen's keys."""
    app = SurveyApp(open_study(steady), keymap_file=steady / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"

    async def open_keys(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await app.switch_mode("fieldwork")
        await settle(pilot)
        for key in ("a", "question_mark"):
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_keys)
