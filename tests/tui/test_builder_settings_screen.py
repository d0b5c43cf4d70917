"""Instrument settings and terminate rules edited through the builder with Pilot, read back from the YAML."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from survey_tui.core.instrument.loader import load_instrument
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.instrument_forms import SettingsForm, TerminateForm, TerminateRulesScreen
from survey_tui.tui.screens.questionnaire import ConfirmScreen, QuestionnaireScreen

INSTRUMENT = Path("instruments") / "bubble_tea_brand_health.yaml"
KEYS = {" ": "space", "=": "equals_sign", "<": "less_than_sign", ">": "greater_than_sign"}


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for key in text:
        await pilot.press(KEYS.get(key, key))


async def test_edit_title_and_terminate_rules(demo_study_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    path = root / INSTRUMENT
    comments_before = [ln for ln in path.read_text("utf-8").splitlines() if ln.strip().startswith("#")]
    rules_before = len(load_instrument(path).terminate)
    app = SurveyApp(open_study(root), keymap_file=root / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
        # -- settings: title side by side, a refused default language keeps the form open
        await pilot.press("i")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SettingsForm)
        assert form.query_one("#i-title-1", Input).value.startswith("Bubble Tea Study")
        form.query_one("#i-default", Input).value = "ja"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "default language 'ja'" in str(form.query_one("#i-error", Static).render())
        form.query_one("#i-default", Input).value = "zh-TW"
        form.query_one("#i-title-0", Input).value = "珍奶研究（修訂版）"
        form.query_one("#i-title-1", Input).value = "Bubble Tea Study (revised)"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
        assert load_instrument(path).title == {"zh-TW": "珍奶研究（修訂版）", "en": "Bubble Tea Study (revised)"}

        # -- terminate rules: a bad condition is flagged as typed, then a good rule is added
        await pilot.press("T")
        await pilot.pause()
        rules = app.screen
        assert isinstance(rules, TerminateRulesScreen)
        assert rules.query_one("#rules", DataTable).row_count == rules_before
        await pilot.press("a")
        await pilot.pause()
        rule_form = app.screen
        assert isinstance(rule_form, TerminateForm)
        await type_text(pilot, "s3 = 1 and zz")
        await pilot.pause()
        error = str(rule_form.query_one("#e-when", Static).render())
        assert "unknown name 'zz'" in error and "position 12" in error
        rule_form.query_one("#r-when", Input).value = ""
        await type_text(pilot, "s2 > 60")
        await pilot.pause()
        assert "ok" in str(rule_form.query_one("#e-when", Static).render())
        rule_form.query_one("#r-outcome", Select).value = "quota_full"
        rule_form.query_one("#r-message-0", Input).value = "60 歲以上樣本已額滿"
        rule_form.query_one("#r-message-1", Input).value = "The 60+ quota is full"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is rules
        assert rules.query_one("#rules", DataTable).row_count == rules_before + 1
        instrument = load_instrument(path)
        added = instrument.terminate[-1]
        assert (added.when, added.outcome, added.message) == (
            "s2 > 60",
            "quota_full",
            {"zh-TW": "60 歲以上樣本已額滿", "en": "The 60+ quota is full"},
        )
        # the new rule is highlighted; delete the first one instead, with confirmation
        table = rules.query_one("#rules", DataTable)
        assert table.cursor_row == rules_before
        table.move_cursor(row=0)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert len(load_instrument(path).terminate) == rules_before
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QuestionnaireScreen)
    text = path.read_text("utf-8")
    assert [ln for ln in text.splitlines() if ln.strip().startswith("#")] == comments_before
    assert "s2 < 15 or s2 > 65" not in text and "when: s2 > 60" in text
