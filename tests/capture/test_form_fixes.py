"""The interviewer form's rough edges, each driven with the keyboard: F4, revisited don't-knows, two-digit
codes, one key per multi-choice code, messages by the question, the name box, resume position and clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from wcwidth import wcswidth

from survey_tui.core.interview.capture import resumable_interviews, resume_session, start_session, time_spent
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import Study
from survey_tui.tui.interview_app import InterviewApp
from survey_tui.tui.screens.interview import ChoiceBoard, InterviewScreen, StartScreen
from tests.capture.helpers import make_study

#: two 0-10 scales, then a multi choice with codes 1-11 (two-digit codes share a first digit with 1)
SCALES = """
id: scales
title: {en: Scales}
languages: [en, zh-TW]
choice_lists:
  ten:
    - {code: 0, label: {en: Never, zh-TW: 絕不}}
    - {code: 1, label: {en: "1", zh-TW: "1"}}
    - {code: 2, label: {en: "2", zh-TW: "2"}}
    - {code: 3, label: {en: "3", zh-TW: "3"}}
    - {code: 4, label: {en: "4", zh-TW: "4"}}
    - {code: 5, label: {en: "5", zh-TW: "5"}}
    - {code: 6, label: {en: "6", zh-TW: "6"}}
    - {code: 7, label: {en: "7", zh-TW: "7"}}
    - {code: 8, label: {en: "8", zh-TW: "8"}}
    - {code: 9, label: {en: "9", zh-TW: "9"}}
    - {code: 10, label: {en: Surely, zh-TW: 一定}}
  eleven:
    - {code: 1, label: {en: B1, zh-TW: 品牌1}}
    - {code: 2, label: {en: B2, zh-TW: 品牌2}}
    - {code: 3, label: {en: B3, zh-TW: 品牌3}}
    - {code: 4, label: {en: B4, zh-TW: 品牌4}}
    - {code: 5, label: {en: B5, zh-TW: 品牌5}}
    - {code: 6, label: {en: B6, zh-TW: 品牌6}}
    - {code: 7, label: {en: B7, zh-TW: 品牌7}}
    - {code: 8, label: {en: B8, zh-TW: 品牌8}}
    - {code: 9, label: {en: B9, zh-TW: 品牌9}}
    - {code: 10, label: {en: B10, zh-TW: 品牌10}}
    - {code: 11, label: {en: B11, zh-TW: 品牌11}}
sections:
  - name: main
    questions:
      - {name: q1, type: scale, label: {en: First, zh-TW: 第一}, choices: ten}
      - {name: q2, type: scale, label: {en: Second, zh-TW: 第二}, choices: ten}
      - {name: q3, type: multi, label: {en: Brands, zh-TW: 品牌}, choices: eleven}
      - {name: q4, type: scale, label: {en: Last, zh-TW: 最後}, choices: ten}
"""


async def until(pilot: Pilot, condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the app run until `condition` holds (a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the screen never reached the expected state"
        await pilot.pause()


def form(study: Study, **kwargs: object) -> tuple[InterviewApp, object]:
    session = start_session(study, interviewer="amy", **kwargs)  # type: ignore[arg-type]
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    return app, session


def current(app: InterviewApp) -> str | None:
    question = app.screen.session.engine.current  # type: ignore[attr-defined]
    return None if question is None else question.name


def message(app: InterviewApp) -> str:
    return str(app.screen.query_one("#iv-message", Static).render())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_f4_keeps_text_typed_but_not_yet_submitted(tmp_path: Path, size: tuple[int, int]) -> None:
    study = make_study(tmp_path / "s", consent=False)
    app, session = form(study)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#iv-input", Input)
        before = session.language  # type: ignore[attr-defined]
        await pilot.press("3", "0", "f4")
        await until(pilot, lambda: session.language != before)  # type: ignore[attr-defined]
        assert field.value == "30" and app.focused is field
        await pilot.press("enter")
        await until(pilot, lambda: current(app) == "drinks")
    with Store(study.db_path) as store:
        assert store.answers(session.interview_id)["age"].value == 30  # type: ignore[attr-defined]


async def test_dont_know_is_shown_after_going_back_and_enter_keeps_it(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    app, session = form(study, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f8")  # age: don't know
        await until(pilot, lambda: current(app) == "drinks")
        await pilot.press("pageup")
        await until(pilot, lambda: current(app) == "age")
        assert "Don't know" in message(app) or "不知道" in message(app)
        await pilot.press("enter")  # left as it was: the don't-know stands
        await until(pilot, lambda: current(app) == "drinks")
        assert "required" not in message(app).lower()
    with Store(study.db_path) as store:
        age = store.answers(session.interview_id)["age"]  # type: ignore[attr-defined]
        assert (age.value, age.special) == (None, "dont_know")


async def test_dont_know_on_a_choice_puts_the_cursor_on_it(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    app, session = form(study, language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3", "0", "enter", "1")  # age 30, drinks yes
        await until(pilot, lambda: current(app) == "aware")
        await pilot.press("f8")  # aware: don't know (the multi board lists it as a row)
        await until(pilot, lambda: current(app) != "aware")
        await pilot.press("pageup")
        await until(pilot, lambda: current(app) == "aware")
        board = app.screen.query_one(ChoiceBoard)
        assert board.cursor is not None and board.options[board.cursor].special == "dont_know"
        await pilot.press("enter")
        await until(pilot, lambda: current(app) != "aware")
    with Store(study.db_path) as store:
        assert store.answers(session.interview_id)["aware"].special == "dont_know"  # type: ignore[attr-defined]


async def test_two_digit_codes_never_drop_a_digit(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=SCALES)
    app, session = form(study, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("1", "9")  # q1 = 1; the 9 is q2's answer, not lost
        await until(pilot, lambda: current(app) == "q3")
        await pilot.press("1", "1", "1")  # q3: 11, then 1 waiting for its pause
        await until(pilot, lambda: app.screen.query_one(ChoiceBoard).checked == {1, 11})
        await pilot.press("2", "enter")  # 2 ticks at once (no code starts with 2 but 2 itself)
        await until(pilot, lambda: current(app) == "q4")
        await pilot.press("1", "0")  # q4 = 10 at once
        await until(pilot, lambda: app.screen.stage == "end")
        await pilot.press("pageup")
        await until(pilot, lambda: current(app) == "q4")
        await pilot.press("1")  # only the pause decides between 1 and 10
        await until(pilot, lambda: app.screen.stage == "end")
    with Store(study.db_path) as store:
        answers = store.answers(session.interview_id)  # type: ignore[attr-defined]
        assert [answers[q].value for q in ("q1", "q2", "q3", "q4")] == [1, 9, [1, 2, 11], 1]


async def test_multi_choice_one_key_per_code_and_space_unticks(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    app, session = form(study, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "0", "enter", "1")
        await until(pilot, lambda: current(app) == "aware")
        board = app.screen.query_one(ChoiceBoard)
        await pilot.press("1", "3")
        assert board.checked == {1, 3}
        await pilot.press("space")  # the cursor is on 3: space unticks it
        assert board.checked == {1}
        await pilot.press("enter")
        await until(pilot, lambda: current(app) == "favourite")
    with Store(study.db_path) as store:
        assert store.answers(session.interview_id)["aware"].value == [1]  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_validation_message_sits_under_the_question(tmp_path: Path, size: tuple[int, int]) -> None:
    study = make_study(tmp_path / "s", consent=False)
    app, _ = form(study)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("1", "4", "0", "enter")  # above the maximum of 120
        await until(pilot, lambda: "120" in message(app))
        field = app.screen.query_one("#iv-input", Input).region
        note = app.screen.query_one("#iv-message", Static).region
        assert note.y == field.bottom  # the line right under the answer box, not the bottom of the screen
        assert note.y < size[1] - 2


async def test_start_list_focuses_the_name_and_shows_where_interviews_stopped(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    first = start_session(study, interviewer="amy", language="en")
    first.suspend()  # suspended at the very first question
    first.close()
    with Store(study.db_path) as store:
        assert resumable_interviews(store)[0]["current_question"] == "age"
    app = InterviewApp(study)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen) and app.screen.rows != [])
        assert app.focused is app.screen.query_one("#iv-interviewer", Input)
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2)
        assert table.get_row_at(1)[-1] == "age"
        await pilot.press(*"amy", "enter")  # name, then the list
        await until(pilot, lambda: app.focused is table)
        await pilot.press("enter")  # a walk-in
        await until(pilot, lambda: isinstance(app.screen, InterviewScreen))
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("s")  # suspend it
        await until(pilot, lambda: app.screen.stage == "done")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StartScreen) and table.row_count == 3)
        for index, column in enumerate(table.ordered_columns):  # no column collapsed to its header
            cells = [str(table.get_row_at(r)[index]) for r in range(table.row_count)]
            assert column.width >= max(wcswidth(c) for c in cells), (column.label, cells)
        assert "f8" not in {k.key for k in app.screen.query("FooterKey")}  # the form's keys are gone


async def test_elapsed_time_goes_on_across_resume(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    with Store(study.db_path) as store:
        version = store.versions()[0]
        row = store.start_interview(version.id, "field", "amy", None, "en", started_at="2026-03-01T10:00:00+00:00")
        store.log_event(row.id, "answer", "age", "30.0", at="2026-03-01T10:00:30+00:00")
        store.log_event(row.id, "suspend", None, None, at="2026-03-01T10:01:00+00:00")
        store.log_event(row.id, "resume", None, None, at="2026-03-01T12:00:00+00:00")
        store.log_event(row.id, "answer", "drinks", "20.0", at="2026-03-01T12:00:20+00:00")
        # two sittings: 60 s, then 20 s; the two hours suspended do not count
        assert time_spent(store, row.id) == pytest.approx(80.0)
    session = resume_session(study, row.id)
    assert session.elapsed_before == pytest.approx(80.0)
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        status = str(app.screen.query_one("#iv-status", Static).render())
        assert "01:2" in status  # 80 s and more, never 00:00


async def test_choices_ruled_out_by_an_earlier_answer_are_not_listed(tmp_path: Path) -> None:
    from tests.core.test_choice_filter import FILTERED

    study = make_study(tmp_path / "s", consent=False, instrument=FILTERED)
    app, session = form(study, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "0", "enter", "1")
        await until(pilot, lambda: current(app) == "aware")
        await pilot.press("1", "3", "enter")  # heard of brands A and C
        await until(pilot, lambda: current(app) == "favourite")
        board = app.screen.query_one(ChoiceBoard)
        assert [o.code for o in board.options if o.special is None] == [1, 3]
        assert "Brand B" not in board.draw().plain
        await pilot.press("2")  # brand B is not offered: a message, nothing stored
        await until(pilot, lambda: "2" in message(app))
        assert current(app) == "favourite"
        await pilot.press("3")
        await until(pilot, lambda: current(app) == "why")
    with Store(study.db_path) as store:
        assert store.answers(session.interview_id)["favourite"].value == 3  # type: ignore[attr-defined]


def test_plain_enter_keeps_a_revisited_answer_and_stop_says_how_to_resume(tmp_path: Path) -> None:
    from survey_tui.plain.interview import ask_interviewer, run_plain

    study = make_study(tmp_path / "s", consent=False)
    session = start_session(study, interviewer=ask_interviewer(lambda prompt: " amy "), language="en")
    lines = iter(["!dk", "<", "", "1", "<", "", "!stop"])  # age don't know, back, Enter; drinks yes, back, Enter
    said: list[str] = []
    outcome = run_plain(session, lambda prompt: next(lines, None), said.append)
    assert outcome == "suspended"
    assert not [s for s in said if s.startswith("!")], said  # Enter was never refused
    assert f"survey-tui interview --resume {session.interview_id}" in said[-1]
    with Store(study.db_path) as store:
        answers = store.answers(session.interview_id)
        assert answers["age"].special == "dont_know" and answers["drinks"].value == 1
        assert store.interview(session.interview_id).current_question == "aware"
        assert store.interview(session.interview_id).interviewer == "amy"
    session.close()
