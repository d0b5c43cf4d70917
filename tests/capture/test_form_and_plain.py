"""The Textual form and the plain prompts store identical interviews; bad input changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Static

from survey_tui.core.interview.capture import consent_of, paradata, resume_session, start_session
from survey_tui.core.store.sqlite import Store
from survey_tui.plain.interview import run_plain
from survey_tui.tui.interview_app import InterviewApp
from tests.capture.helpers import make_study, stored_interview

#: One scripted interview as (form keys, plain line) per step: consent, bad input, a change after going
#: back, every question type, a special code, the note screen and the end screen.
SCRIPT: list[tuple[list[str] | str, str]] = [
    (["1"], "1"),  # consent given
    (["a", "b", "enter"], "ab"),  # letters in a number: refused
    (["backspace", "backspace", "1", "4", "0", "enter"], "140"),  # above max 120: refused
    (["backspace", "backspace", "backspace", "3", "0", "enter"], "30"),  # age
    (["1"], "1"),  # drinks: yes (unambiguous code, moves on by itself)
    (["5", "enter"], "5"),  # aware: 5 is not a code
    (["1", "2", "enter"], "1 2"),  # aware: one key per code
    (["pageup"], "<"),  # back to aware
    (["3", "enter"], "1 2 3"),  # aware changed
    (["3"], "3"),  # favourite
    ("好喝\x07", "好喝\x07"),  # pasted control character: refused
    ("好喝", "好喝"),  # why
    (["3", "enter"], "3"),  # grid: one row missing -> refused, cursor on price
    (["2", "enter"], "3 2"),  # grid complete
    (["f8"], "!dk"),  # spend: don't know
    ("2026-13-40", "2026-13-40"),  # not a date
    ("2026-10-01", "2026-10-01"),  # visit
    (["enter"], ""),  # thanks (note)
    (["enter"], ""),  # end screen: complete
]


def run_plain_script(study_root: Path) -> int:
    from survey_tui.core.study import open_study

    study = open_study(study_root)
    session = start_session(study, interviewer="amy")
    lines = iter([line for _, line in SCRIPT])
    said: list[str] = []
    outcome = run_plain(session, lambda prompt: next(lines, None), said.append)
    assert outcome == "complete", said[-5:]
    session.close()
    return session.interview_id


async def run_form_script(study_root: Path, size: tuple[int, int] = (120, 40)) -> tuple[int, list[str]]:
    from survey_tui.core.study import open_study

    study = open_study(study_root)
    session = start_session(study, interviewer="amy")
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    messages: list[str] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for keys, _ in SCRIPT:
            if isinstance(keys, str):
                field = app.screen.query_one("#iv-input", Input)
                assert app.focused is field
                field.value = ""
                field.post_message(events.Paste(keys))
                await pilot.pause()
                keys = ["enter"]
            await pilot.press(*keys)
            await pilot.pause()
            messages.append(str(app.screen.query_one("#iv-message", Static).render()))
        await pilot.press("enter")  # close the end screen
        await pilot.pause()
    assert app.return_value == "complete"
    return session.interview_id, messages


@pytest.mark.asyncio
async def test_form_and_plain_store_identical_interviews(tmp_path: Path) -> None:
    plain_study = make_study(tmp_path / "plain")
    form_study = make_study(tmp_path / "form")
    plain_id = run_plain_script(plain_study.root)
    form_id, messages = await run_form_script(form_study.root)
    with Store(plain_study.db_path) as a, Store(form_study.db_path) as b:
        plain, form = stored_interview(a, plain_id), stored_interview(b, form_id)
        assert plain == form
        assert plain["answers"]["aware"] == ([1, 2, 3], None)
        assert plain["answers"]["spend"] == (None, "dont_know")
        assert ("aware", "changed", "[1,2]", "[1,2,3]", None) in plain["audit"]
        assert consent_of(a, plain_id) == "given"
        backs = {p.question: p.backs for p in paradata(b, form_id)}
        changes = {p.question: p.changes for p in paradata(b, form_id)}
        assert backs["favourite"] == 1 and changes["aware"] == 1
    # every bad input got a message in the form
    assert "不是數字" in messages[1] and "120" in messages[2]
    assert "必答" in messages[5] and "控制字元" in messages[10] and "價格" in messages[12]
    assert "YYYY-MM-DD" in messages[15]


@pytest.mark.asyncio
async def test_form_bad_input_changes_nothing_and_keeps_focus(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    session = start_session(study, interviewer="amy")
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#iv-input", Input)
        for bad in ("abc", "-5", "1e9", "3\x1b[2J", "３０.５", "x" * 5000):
            field.value = ""
            field.post_message(events.Paste(bad))
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert app.focused is field
            assert str(app.screen.query_one("#iv-message", Static).render()).strip()
            assert session.store.answers(session.interview_id) == {}
        field.value = ""
        field.post_message(events.Paste("３０"))  # full-width digits from a CJK input method
        await pilot.press("enter")
        await pilot.pause()
        assert session.store.answers(session.interview_id)["age"].value == 30
        await pilot.press("9", "enter")  # drinks: codes 1, 2 (and 98/99, so "9" waits for Enter)
        await pilot.pause()
        assert "9" in str(app.screen.query_one("#iv-message", Static).render())
        assert set(session.store.answers(session.interview_id)) == {"age"}
        await pilot.press("f10", "s")  # suspend
        await pilot.pause()
    with Store(study.db_path) as store:
        assert store.interview(session.interview_id).status == "suspended"
        resumed = resume_session(study, session.interview_id, store=store)
        assert resumed.engine.current is not None and resumed.engine.current.name == "drinks"
        assert resumed.engine.path == ["age"]


def test_plain_bad_input_at_every_prompt_changes_nothing(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=True)
    session = start_session(study, interviewer="bob", language="en")
    lines = iter(["x", "1", "abc", "999", "30", "7", "1", "9 1", "97 1", "1", "1", "\x1b[A", "a" * 2001, "!stop"])
    said: list[str] = []
    assert run_plain(session, lambda prompt: next(lines, None), said.append) == "suspended"
    errors = [s for s in said if s.startswith("! ")]
    assert len(errors) == 8, errors
    answers = session.store.answers(session.interview_id)
    assert {k: v.value for k, v in answers.items()} == {"age": 30, "drinks": 1, "aware": [1], "favourite": 1}
    session.close()


def test_consent_refusal_ends_before_any_question(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=True)
    session = start_session(study, interviewer="bob")
    lines = iter(["2"])
    assert run_plain(session, lambda prompt: next(lines, None), lambda text: None) == "consent_refused"
    row = session.store.interview(session.interview_id)
    assert (row.status, row.outcome) == ("terminated", "break_off")
    assert consent_of(session.store, session.interview_id) == "refused"
    assert session.store.answers(session.interview_id) == {}
    session.close()
