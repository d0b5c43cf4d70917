"""The call screen with the keyboard alone: next case, one key per outcome, callbacks typed as date and
time (a bad one refused with the case unchanged), the interview started from the case, contact data shown
only for the case leased to the caller. Waits on conditions, never on sleeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.calls import CallScreen
from survey_tui.tui.screens.fieldwork import FieldworkScreen
from survey_tui.tui.screens.interview import InterviewScreen
from tests.capture.helpers import make_study

TUESDAY_10 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # 10:00 in Taipei


async def _wait(pilot, condition: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


def _text(app: SurveyApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


@pytest.mark.asyncio
async def test_working_through_calls_with_the_keyboard(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    with study.store() as store:
        first = resp.add(store, {"gender": 1}, {"name": "陳大文", "phone": "0912345678"})
        second = resp.add(store, {"gender": 2}, {"name": "李小華", "phone": "0987654321"})
        with store.transaction() as conn:  # the queue's order: first, then second
            conn.execute("UPDATE respondents SET priority = 1 WHERE id = ?", (first,))
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))
        await _wait(pilot, lambda: "Queue:" in _text(app, "#fieldwork-calls"))
        assert "RR1 = 0 / 2" in _text(app, "#fieldwork-calls")
        app.push_screen(CallScreen(clock=lambda: TUESDAY_10))  # the same screen `c` opens, on a fixed clock
        await _wait(pilot, lambda: app.screen.query("Input"))
        await _type(pilot, "amy")
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, CallScreen) and app.screen.case is not None)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        assert screen.case.id == first and first in _text(app, "#call-case")
        assert "0912345678" in _text(app, "#call-contact")  # leased to amy: she sees the number
        assert "0987654321" not in _text(app, "#call-contact")

        await pilot.press("n")  # no answer: recorded, next case comes
        await _wait(pilot, lambda: screen.case is not None and screen.case.id == second)
        assert "0987654321" in _text(app, "#call-contact") and "0912345678" not in _text(app, "#call-contact")
        with study.store() as store:
            assert [h[2] for h in resp_history(store, first)] == ["no_answer"]

        await pilot.press("c")  # callback: a time outside calling hours is refused, the case unchanged
        await _wait(pilot, lambda: app.screen is not screen)
        await _type(pilot, "2026-10-06 23:00")
        await pilot.press("enter")
        await _wait(pilot, lambda: "outside calling hours" in _text(app, "#call-message"))
        assert screen.case.id == second
        with study.store() as store:
            assert store.query("SELECT COUNT(*) FROM contact_attempts WHERE respondent_id = ?", (second,))[0][0] == 0

        await pilot.press("t")  # a note, then a firm appointment at a good time
        await _wait(pilot, lambda: app.screen is not screen)
        await _type(pilot, "after 7")
        await pilot.press("enter")
        await pilot.press("a")
        await _wait(pilot, lambda: app.screen is not screen)
        await _type(pilot, "2026-10-07 19:30")
        await pilot.press("enter")
        await _wait(pilot, lambda: screen.case is None)  # nothing else is due on the fixed clock
        assert "No case can be called now" in _text(app, "#call-case")
        assert _text(app, "#call-contact") == ""
        with study.store() as store:
            row = store.query(
                "SELECT next_appointment, appointment_kind, interviewer FROM respondents WHERE id = ?", (second,)
            )[0]
            assert tuple(row) == ("2026-10-07T19:30", "hard", "amy")
            assert [(h[2], h[4]) for h in resp_history(store, second)] == [("callback", "after 7")]


@pytest.mark.asyncio
async def test_the_interview_starts_from_the_case_and_its_end_is_the_call_outcome(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    with study.store() as store:
        rid = resp.add(store, {"gender": 1}, {"name": "陳大文", "phone": "0912345678"})
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))
        app.push_screen(CallScreen("amy", clock=lambda: TUESDAY_10))
        await _wait(pilot, lambda: isinstance(app.screen, CallScreen) and app.screen.case is not None)
        screen = app.screen
        await pilot.press("i")
        await _wait(pilot, lambda: isinstance(app.screen, InterviewScreen))
        form = app.screen
        assert form.session.respondent_id == rid and form.session.interviewer == "amy"
        await pilot.press("1")  # consent given
        await _wait(pilot, lambda: form.stage == "question")
        await pilot.press("f10")  # stop: suspend (the respondent has to go)
        await _wait(pilot, lambda: app.screen is not form)
        await pilot.press("s")
        await _wait(pilot, lambda: form.stage == "done")
        await pilot.press("enter")  # leave the end screen: back to the call, which asks when to call back
        await _wait(
            pilot, lambda: not isinstance(app.screen, (InterviewScreen, CallScreen)) and app.screen.query(Input)
        )
        await _type(pilot, "2026-10-06 18:00")  # the callback the suspended interview asks for
        await pilot.press("enter")
        await _wait(pilot, lambda: app.screen is screen and screen.case is None)
        table = screen.query_one("#call-history", DataTable)
        assert table.row_count == 0
    with study.store() as store:
        assert [h[2] for h in resp_history(store, rid)] == ["callback"]
        row = store.query("SELECT status, next_appointment, disposition FROM respondents WHERE id = ?", (rid,))[0]
        assert tuple(row) == ("appointment", "2026-10-06T18:00", "2.21")
        assert store.query("SELECT status FROM interviews WHERE respondent_id = ?", (rid,))[0][0] == "suspended"


def resp_history(store, rid: str):  # type: ignore[no-untyped-def]
    from survey_tui.core.fieldwork.dispositions import history

    return history(store, rid)


@pytest.mark.asyncio
async def test_c_in_fieldwork_opens_the_call_screen(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s")
    app = SurveyApp(study, keymap_file=tmp_path / "none.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))
        await pilot.press("c")
        await _wait(pilot, lambda: any(isinstance(s, CallScreen) for s in app.screen_stack))
        await pilot.press("escape")  # the name prompt: no name, no calls
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))


@pytest.mark.asyncio
async def test_rates_by_interviewer_day_and_quota_cell_in_fieldwork(demo_study_dir: Path) -> None:
    """Fieldwork `a`: each group's AAPOR rates with numerator and denominator, the numbers of the rates module."""
    from survey_tui.core.fieldwork import rates
    from survey_tui.core.fieldwork.dispositions import settings_of
    from survey_tui.core.study import open_study
    from survey_tui.tui.screens.fieldwork import SHOWN_RATES, RatesScreen

    study = open_study(demo_study_dir)
    with study.store() as store:
        expected = {
            what: rates.by(store, what, settings_of(study.config), study.config.quotas)
            for what in RatesScreen.GROUPINGS
        }
    app = SurveyApp(study, keymap_file=demo_study_dir / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))
        await pilot.press("a")
        for what in RatesScreen.GROUPINGS:
            groups = expected[what]
            assert groups, what

            def shown(what: str = what, rows: int = len(groups)) -> bool:
                screen = app.screen
                return (
                    isinstance(screen, RatesScreen)
                    and screen.grouping == what
                    and screen.query_one("#rates-table", DataTable).row_count == rows
                )

            await _wait(pilot, shown)
            table = app.screen.query_one("#rates-table", DataTable)
            titles = {q.name: q.title("en") for q in study.config.quotas}  # the English interface
            for row, group in enumerate(groups):
                cells = [str(c) for c in table.get_row_at(row)]
                if what == "quota":  # the quota's label over the cell, never its id (gender_age)
                    name, cell = group.label.split(": ", 1)
                    assert cells[0] == f"{titles[name]}\n{cell}"
                    assert name not in cells[0]
                elif not group.label.startswith("("):
                    assert cells[0] == group.label
                assert cells[1] == str(group.cases)
                rr1 = group.rates[SHOWN_RATES[0]]
                pct = "—" if rr1.value is None else f"{100 * rr1.value:.1f}%"
                assert cells[3] == f"{pct}\n{rates._n(rr1.numerator)}/{rates._n(rr1.denominator)}", cells
            await pilot.press("g")
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, FieldworkScreen))
