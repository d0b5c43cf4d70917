"""The Plan section driven with the keyboard: what is typed ends up in study.yaml (or is refused)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static, TextArea

from survey_tui.core.plan.model import margin_for_sample_size
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.plan import PlanScreen
from survey_tui.tui.screens.plan_forms import FormScreen, SampleSizeScreen
from tests.plan_study import make_plan_study


@pytest.fixture
def plan_study(tmp_path: Path) -> Path:
    return make_plan_study(tmp_path / "study")


def make_app(root: Path) -> SurveyApp:
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    return app


async def until(pilot, condition: Callable[[], bool], tries: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    raise AssertionError("condition never became true")


async def open_plan(pilot) -> PlanScreen:  # type: ignore[no-untyped-def]
    await pilot.press("1")
    await until(pilot, lambda: isinstance(pilot.app.screen, PlanScreen) and pilot.app.screen.data is not None)
    return pilot.app.screen


def plan_yaml(root: Path) -> str:
    return (root / "study.yaml").read_text(encoding="utf-8")


async def test_add_a_source_with_the_keyboard(plan_study: Path) -> None:
    app = make_app(plan_study)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        assert "plan check: no problems" in str(screen.query_one("#plan-problems", Static).render())
        await pilot.press("]")
        assert screen.active_tab == "sources"
        rows_before = screen.query_one("#plan-sources", DataTable).row_count
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.query_one("#f-id", Input).value == "S7"  # the next free id is proposed
        await pilot.press("tab", *"Franchise", "space", *"yearbook")
        assert form.query_one("#f-title", Input).value == "Franchise yearbook"
        form.query_one("#f-publisher", Input).value = "台灣連鎖暨加盟協會"
        form.query_one("#f-accessed", Input).value = "2026-09-12"
        form.query_one("#f-kind", Select).value = "industry_report"
        form.query_one("#f-findings", TextArea).text = "加盟店占飲料店四成 | 市場規模 market size\n展店集中中南部"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await until(pilot, lambda: screen.query_one("#plan-sources", DataTable).row_count == rows_before + 1)
    config = open_study(plan_study).config
    source = config.sources[-1]
    assert (source.id, source.title, source.publisher, source.kind) == (
        "S7",
        "Franchise yearbook",
        "台灣連鎖暨加盟協會",
        "industry_report",
    )
    assert [f.text for f in source.findings] == ["加盟店占飲料店四成", "展店集中中南部"]
    assert source.findings[0].tags == ["市場規模 market size"]
    text = plan_yaml(plan_study)
    assert "# -- T1.1 desk research" in text and "title: Franchise yearbook" in text


async def test_a_bad_date_is_refused_in_the_form_and_nothing_is_written(plan_study: Path) -> None:
    before = plan_yaml(plan_study)
    app = make_app(plan_study)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_plan(pilot)
        await pilot.press("]", "a")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        form.query_one("#f-title", Input).value = "Bad date"
        form.query_one("#f-accessed", Input).value = "2026-02-30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open, with the reason
        assert "accessed" in str(form.query_one("#form-error", Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
    assert plan_yaml(plan_study) == before


async def test_add_a_hypothesis_and_see_cross_check_problems(plan_study: Path) -> None:
    app = make_app(plan_study)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("]", "]", "]")
        assert screen.active_tab == "hypotheses"
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.form_title == "Add hypothesis"  # not "hypothese"
        assert form.query_one("#f-id", Input).value == "H7"
        assert form.query_one("#f-outcome", Input).placeholder.startswith("e.g. ")  # never taken for a value
        objectives = next(f for f in form.fields if f.name == "objective").options
        first = screen.config.objectives[0]
        label, value = objectives[0]  # the picker says what each objective is, not only its id
        assert value == first.id and label.startswith(f"{first.id} — {first.text[:6]}")
        form.query_one("#f-statement", Input).value = "30 歲以下每週喝的杯數較多"
        form.query_one("#f-objective", Select).value = "O1"
        form.query_one("#f-test", Select).value = "difference_of_means"
        form.query_one("#f-outcome", Input).value = "u3_cups"
        form.query_one("#f-groups", TextArea).text = "未滿 30 歲 | s2 < 30\n30 歲以上 | s2 >= 30"
        form.query_one("#f-expected", Select).value = "higher"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await until(pilot, lambda: "H7" in [h.id for h in screen.config.hypotheses])
        assert "plan check: no problems" in str(screen.query_one("#plan-problems", Static).render())

        # a mean test on a single-choice question is refused in the form, at its field; nothing is saved
        saved = plan_yaml(plan_study)
        table = screen.query_one("#plan-hypotheses", DataTable)
        table.focus()
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.query_one("#f-outcome", Input).value == "u3_cups"
        form.query_one("#f-outcome", Input).value = "u1_freq"
        form.query_one("#f-expected", Select).focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # still open
        error = str(form.query_one("#form-error", Static).render())
        assert "Outcome variable: hypothesis H7" in error and "u1_freq is a single-choice" in error
        assert app.focused is form.query_one("#f-outcome", Input)  # the cursor is on the field to fix
        assert form.query_one("#form-error", Static).region.height > 0  # the message is in view
        assert plan_yaml(plan_study) == saved
        # a variable no instrument has, and an expression naming one: both located
        form.query_one("#f-outcome", Input).value = "u3_cupz"
        form.query_one("#f-groups", TextArea).text = "young | s2 < 30\nolder | zz >= 30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(form.query_one("#form-error", Static).render())
        assert "Outcome variable:" in error and "u3_cupz" in error
        assert "Groups:" in error and "'zz'" in error
        assert plan_yaml(plan_study) == saved
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
    h7 = next(h for h in open_study(plan_study).config.hypotheses if h.id == "H7")
    assert (h7.test.value, h7.outcome, h7.objective, h7.expected) == ("difference_of_means", "u3_cups", "O1", "higher")
    assert [(g.label, g.when) for g in h7.groups] == [("未滿 30 歲", "s2 < 30"), ("30 歲以上", "s2 >= 30")]
    assert plan_yaml(plan_study).count("id: H7") == 1  # edited in place, not added twice


async def test_report_status_change_and_sample_size_helper(plan_study: Path) -> None:
    app = make_app(plan_study)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f-status", Select).value = "changes_requested"
        app.screen.query_one("#f-by", Input).value = "林怡君"
        app.screen.query_one("#f-on", Input).value = "2026-09-20"
        app.screen.query_one("#f-note", Input).value = "請加入價格敏感度"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.config.report_format.status == "changes_requested")
        assert "CHANGES REQUESTED" in str(screen.query_one("#plan-overview", Static).content)  # the text drawn

        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, SampleSizeScreen))
        helper = app.screen
        helper.query_one("#ss-population", Input).value = "1000"
        helper.query_one("#ss-margin", Input).value = "5"
        helper.query_one("#ss-n", Input).value = "278"
        await pilot.pause()
        assert "n = 278" in str(helper.query_one("#ss-n-result", Static).render())
        expected = f"±{margin_for_sample_size(278, population=1000) * 100:.2f} percentage points with n = 278"
        assert expected in str(helper.query_one("#ss-margin-result", Static).render())
        helper.query_one("#ss-population", Input).value = ""
        await pilot.pause()
        assert "n = 385" in str(helper.query_one("#ss-n-result", Static).render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.config.method.sample_size == 385)
    config = open_study(plan_study).config
    assert config.method.sample_size == 385
    last = config.report_format.history[-1]
    assert (last.status, last.by, last.note) == ("changes_requested", "林怡君", "請加入價格敏感度")
    assert config.report_format.approved_by == ""


async def test_plan_screen_fits_a_small_terminal(plan_study: Path) -> None:
    app = make_app(plan_study)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("]", "]", "]", "a")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f-threshold", Input).focus()  # the last fields scroll into reach
        await until(pilot, lambda: 0 < app.screen.query_one("#f-threshold", Input).region.bottom <= 24)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
