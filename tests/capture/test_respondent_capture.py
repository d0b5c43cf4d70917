"""Capture x respondents: consent records, status lifecycle, quotas ending interviews, who can be interviewed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events
from textual.widgets import DataTable, Input, Static

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.screening import EligibilityCriterion
from survey_tui.core.interview.capture import (
    CaptureError,
    assigned_respondents,
    consent_of,
    consent_wording_version,
    open_for_respondent,
    resume_session,
    start_session,
)
from survey_tui.core.study import Study, open_study
from survey_tui.plain.interview import run_plain
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.interview_app import InterviewApp
from survey_tui.tui.screens.interview import InterviewScreen
from survey_tui.tui.screens.respondents import AskScreen, RespondentsScreen
from tests.capture.helpers import make_study

QUOTAS = """quotas:
  - name: gender_age
    dimensions:
      - name: gender
        levels:
          - {label: M, when: "gender = 1"}
          - {label: F, when: "gender = 2"}
      - name: age
        levels:
          - {label: young, when: "age < 30"}
          - {label: old, when: "age >= 30"}
    default_target: 1
"""

#: consent, age, drinks: no (skips the brand section), spend, visit date, the closing note, the end screen
COMPLETE = ["1", "{age}", "2", "50", "2026-10-01", "", ""]


def quota_study(root: Path) -> Study:
    make_study(root)
    path = root / "study.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nquotas: []\n" in text
    path.write_text(text.replace("\nquotas: []\n", "\n" + QUOTAS), encoding="utf-8")
    return open_study(root)


def plain(study: Study, lines: list[str], **start: object) -> tuple[str, int, list[str]]:
    """Run one interview through the plain prompts with scripted lines; (outcome, interview id, output)."""
    session = start_session(study, **start)  # type: ignore[arg-type]
    feed = iter(lines)
    said: list[str] = []
    try:
        outcome = run_plain(session, lambda prompt: next(feed, None), said.append)
    finally:
        session.close()
    return outcome, session.interview_id, said


def script(age: int) -> list[str]:
    return [line.format(age=age) for line in COMPLETE]


def statuses(study: Study, rid: str) -> list[tuple[str, str | None]]:
    with study.store() as store:
        return [(h["new_status"], h["interviewer"]) for h in resp.history(store, rid)]


def test_a_respondent_interview_records_consent_and_status(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    with study.store() as store:
        rid = resp.add(store, {"gender": 2}, {"name": "林小美", "phone": "0912345678"}, interviewer="amy")
    outcome, interview_id, _ = plain(study, script(40), respondent_id=rid)  # no --interviewer: the assigned one
    assert outcome == "complete"
    with study.store() as store:
        assert store.interview(interview_id).interviewer == "amy"
        assert resp.get(store, rid).status == "completed"
        record = resp.consent(store, rid)
        assert (record["given"], record["wording_version"], record["interviewer"]) == (
            1,
            consent_wording_version(study),
            "amy",
        )
        assert consent_of(store, interview_id) == "given"
        # one source of truth: a respondent's consent is not duplicated into the interview's events
        assert "consent" not in [e["kind"] for e in store.events(interview_id)]
    assert statuses(study, rid)[-2:] == [("in_progress", "amy"), ("completed", "amy")]


def test_walk_in_consent_stays_an_interview_event(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    outcome, interview_id, _ = plain(study, script(40), interviewer="bob")
    assert outcome == "complete"
    with study.store() as store:
        assert consent_of(store, interview_id) == "given"
        assert [e["detail"] for e in store.events(interview_id) if e["kind"] == "consent"] == ["given"]
        assert store.query("SELECT COUNT(*) FROM consent_records")[0][0] == 0


def test_refusal_break_off_suspend_and_screen_out_set_the_status(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    with study.store() as store:
        refuses, breaks, pauses, young = (resp.add(store, {"gender": 1}, interviewer="amy") for _ in range(4))
    assert plain(study, ["2"], respondent_id=refuses)[0] == "consent_refused"
    assert plain(study, ["1", "40", "!break"], respondent_id=breaks)[0] == "break_off"
    outcome, paused_id, _ = plain(study, ["1", "40", "!stop"], respondent_id=pauses)
    assert outcome == "suspended"
    assert plain(study, ["1", "12"], respondent_id=young)[0] == "screened_out"
    with study.store() as store:
        got = {rid: resp.get(store, rid).status for rid in (refuses, breaks, pauses, young)}
        assert resp.consent(store, refuses)["given"] == 0
    assert got == {refuses: "refused", breaks: "refused", pauses: "in_progress", young: "screened_out"}
    assert statuses(study, breaks)[-1] == ("refused", "amy")

    # the suspended interview resumes without asking consent again, under another interviewer
    with study.store() as store:
        resp.make_appointment(store, pauses, "2026-10-08T19:30")
    session = resume_session(study, paused_id, interviewer="carol")
    try:
        assert not session.needs_consent and session.engine.current.name == "drinks"
        assert resp.get(session.store, pauses).status == "in_progress"
        for line in ["2", "50", "2026-10-01", ""]:
            assert session.engine.submit(None if line == "" else line).accepted
        session.complete()
    finally:
        session.close()
    assert statuses(study, pauses)[-2:] == [("in_progress", "carol"), ("completed", "carol")]
    with study.store() as store:
        assert resp.get(store, pauses).next_appointment is None  # the appointment was kept: used up


def test_who_can_be_interviewed(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    with study.store() as store:
        gone = resp.add(store, {"gender": 1}, {"name": "王大明"}, interviewer="amy")
        done = resp.add(store, {"gender": 1}, interviewer="amy")
        paused = resp.add(store, {"gender": 1}, interviewer="amy")
    assert plain(study, ["40", "2", "50", "2026-10-01", "", ""], respondent_id=done)[0] == "complete"
    assert plain(study, ["40", "!stop"], respondent_id=paused)[0] == "suspended"
    with study.store() as store:
        resp.withdraw(store, gone, delete_answers=False)
    with pytest.raises(CaptureError, match="withdrawn consent"):
        start_session(study, respondent_id=gone)
    with pytest.raises(CaptureError, match="already completed"):
        start_session(study, respondent_id=done)
    with pytest.raises(CaptureError, match="resume it"):
        start_session(study, respondent_id=paused)
    with pytest.raises(CaptureError, match="no respondent"):
        start_session(study, respondent_id="R0000000000")
    # the Respondents section's start resumes the open interview instead of starting a second one
    session = open_for_respondent(study, paused, interviewer="amy")
    try:
        assert session.engine.current.name == "drinks" and session.interview.status == "in_progress"
        session.suspend()
    finally:
        session.close()
    # a withdrawal ends their open interview, so nobody can resume it
    with study.store() as store:
        resp.withdraw(store, paused, delete_answers=False)
        assert store.interview(session.interview_id).outcome == "break_off"
        assert resp.get(store, paused).status == "withdrawn"
    with pytest.raises(CaptureError):
        resume_session(study, session.interview_id)
    with pytest.raises(CaptureError, match="withdrawn consent"):
        open_for_respondent(study, paused)


def test_interviewer_list_own_interviewable_next_appointment_first(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    with study.store() as store:
        new = resp.add(store, {"age": 30}, interviewer="amy")
        later = resp.add(store, {"age": 30}, interviewer="amy")
        sooner = resp.add(store, {"age": 30}, interviewer="amy")
        resp.make_appointment(store, later, "2026-10-09T10:00")
        resp.make_appointment(store, sooner, "2026-10-08T19:30")
        someone_elses = resp.add(store, {"age": 30}, interviewer="bob")
        unassigned = resp.add(store, {"age": 30})
        refused = resp.add(store, {"age": 30}, interviewer="amy")
        resp.record_attempt(store, refused, "refused")
        unfit = resp.add(store, {"age": 12}, interviewer="amy")
        assert resp.screen_all(store, [EligibilityCriterion(name="adult", when="age >= 15")]) == (6, 1)
        gone = resp.add(store, {"age": 30}, interviewer="amy")
        resp.withdraw(store, gone, delete_answers=True)
        busy = resp.add(store, {"age": 30}, interviewer="amy")
    assert plain(study, ["40", "!stop"], respondent_id=busy)[0] == "suspended"
    with study.store() as store:
        assert [r["id"] for r in assigned_respondents(store, "amy")] == [sooner, later, new]
        everyone = [r["id"] for r in assigned_respondents(store)]
    assert set(everyone) == {sooner, later, new, someone_elses, unassigned}
    assert everyone[:2] == [sooner, later]
    with pytest.raises(CaptureError, match="eligibility"):
        start_session(study, respondent_id=unfit)


def test_a_full_quota_cell_ends_plain_interviews_as_quota_full(tmp_path: Path) -> None:
    study = quota_study(tmp_path / "s")
    with study.store() as store:
        first, second, woman = (resp.add(store, {"gender": g}, interviewer="amy") for g in (1, 1, 2))
    assert plain(study, script(25), respondent_id=first)[0] == "complete"  # fills M x young (target 1)
    outcome, interview_id, said = plain(study, script(22), respondent_id=second)
    assert outcome == "quota_full"
    assert any("M × young" in line for line in said)
    with study.store() as store:
        assert store.interview(interview_id).outcome == "quota_full"
        assert set(store.answers(interview_id)) == {"age"}  # ended as soon as the cell was known
        assert resp.get(store, second).status == "quota_full"
    assert statuses(study, second)[-1] == ("quota_full", "amy")
    assert plain(study, script(22), respondent_id=woman)[0] == "complete"  # F x young still open
    # pilot interviews do not count towards quotas, so quotas do not stop them
    assert plain(study, script(22), mode="pilot", interviewer="amy")[0] == "complete"


@pytest.mark.asyncio
async def test_the_form_shows_a_quota_full_end(tmp_path: Path) -> None:
    study = quota_study(tmp_path / "s")
    with study.store() as store:
        first, second = (resp.add(store, {"gender": 2}, interviewer="amy") for _ in range(2))
    assert plain(study, script(45), respondent_id=first)[0] == "complete"
    session = start_session(study, respondent_id=second)
    app = InterviewApp(study, session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("1")  # consent
        await pilot.pause()
        field = app.screen.query_one("#iv-input", Input)
        field.post_message(events.Paste("45"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#iv-label", Static).content)
        assert "配額已滿" in shown and "F × old" in shown
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == "quota_full"
    with study.store() as store:
        assert resp.get(store, second).status == "quota_full"


async def _wait(pilot, condition: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


async def _select(pilot, screen: RespondentsScreen, rid: str) -> None:  # type: ignore[no-untyped-def]
    table = screen.query_one("#respondent-list", DataTable)
    table.focus()
    table.move_cursor(row=[r.id for r in screen.page_rows].index(rid))
    await pilot.pause()


@pytest.mark.asyncio
async def test_respondents_section_starts_the_interview_form(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    with study.store() as store:
        assigned = resp.add(store, {"gender": 1}, {"name": "陳大文"}, interviewer="amy")
        free = resp.add(store, {"gender": 2}, {"name": "李小華"})
        gone = resp.add(store, {"gender": 2}, {"name": "張三"})
        resp.withdraw(store, gone, delete_answers=False)
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await _wait(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        screen = app.screen
        assert isinstance(screen, RespondentsScreen)

        await _select(pilot, screen, gone)  # withdrawn: a clear message, no form
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert any("withdrawn" in n.message for n in app._notifications)

        await _select(pilot, screen, assigned)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, InterviewScreen))
        form = app.screen
        assert form.session.respondent_id == assigned and form.session.interviewer == "amy"
        assert form.stage == "consent"
        await pilot.press("1")  # consent given
        await pilot.pause()
        form.query_one("#iv-input", Input).post_message(events.Paste("33"))
        await pilot.pause()
        await pilot.press("enter", "1")  # age, drinks: yes
        await pilot.pause()
        assert form.session.engine.current.name == "aware"
        await pilot.press("f10", "s")  # suspend
        await pilot.pause()
        await pilot.press("enter")  # close the end screen: back on the list, refreshed
        await _wait(pilot, lambda: app.screen is screen)

        await _select(pilot, screen, free)  # unassigned: asks who interviews, then remembers the name
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press(*"dora", "enter")
        await _wait(pilot, lambda: isinstance(app.screen, InterviewScreen))
        assert app.screen.session.interviewer == "dora"
        await pilot.press("2")  # consent refused
        await pilot.pause()
        await pilot.press("enter")
        await _wait(pilot, lambda: app.screen is screen)
    with study.store() as store:
        assert resp.get(store, assigned).status == "in_progress"
        (interview,) = [i for i in store.interviews() if i.respondent_id == assigned]
        assert (interview.status, interview.interviewer) == ("suspended", "amy")
        assert set(store.answers(interview.id)) == {"age", "drinks"}
        assert consent_of(store, interview.id) == "given"
        assert resp.get(store, free).status == "refused"
        assert resp.consent(store, free)["interviewer"] == "dora"
        assert resp.get(store, gone).status == "withdrawn"
        assert not [i for i in store.interviews() if i.respondent_id == gone]


@pytest.mark.asyncio
async def test_start_list_shows_the_interviewers_own_work(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False)
    with study.store() as store:
        mine = resp.add(store, {"gender": 1}, interviewer="amy")
        booked = resp.add(store, {"gender": 1}, interviewer="amy")
        resp.make_appointment(store, booked, "2026-10-08T19:30")
        resp.add(store, {"gender": 1}, interviewer="bob")
        paused = resp.add(store, {"gender": 1}, interviewer="amy")
        others = resp.add(store, {"gender": 1}, interviewer="bob")
    _, paused_id, _ = plain(study, ["40", "!stop"], respondent_id=paused)
    plain(study, ["40", "!stop"], respondent_id=others)
    app = InterviewApp(study, interviewer="amy")
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait(pilot, lambda: len(getattr(app.screen, "rows", [])) > 1)
        assert app.screen.rows == [
            ("walk_in", None),
            ("resume", paused_id),
            ("respondent", booked),
            ("respondent", mine),
        ]
        app.screen.query_one(DataTable).move_cursor(row=2)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, InterviewScreen))
        assert app.screen.session.respondent_id == booked and app.screen.session.interviewer == "amy"
