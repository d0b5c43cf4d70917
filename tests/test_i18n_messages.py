"""The words the analysis, quality, export, validation and check code produce, in the interface language:
on screen and from the command in zh-TW, while the files they also go into (reports, tab books, manifests)
keep their own language."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Static

from survey_tui.analysis import hypotheses, quality
from survey_tui.cli import main
from survey_tui.core.instrument.expressions import ExpressionError, parse_expression
from survey_tui.core.study import init_study, open_study
from survey_tui.i18n import N_, Phrase, set_language, shown
from survey_tui.tui.app import SurveyApp

FRENCH = """
id: petit
title: {fr: Petit}
languages: [fr]
required_default: true
sections:
  - name: s
    label: {fr: Section}
    questions:
      - name: age
        type: numeric
        label: {fr: "Quel âge avez-vous ?"}
        min: 0
        max: 120
        constraint: ". != 7"
        constraint_message: {fr: "Pas sept, s'il vous plaît"}
      - name: fin
        type: note
        label: {fr: Merci}
"""


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_a_phrase_is_english_in_files_and_translated_on_screen() -> None:
    line = Phrase(N_("Weight: {weight}; weighted and unweighted bases shown; tests use effective bases."), weight="w")
    sided = Phrase(N_("one-sided"))
    joined = Phrase(N_("significant at alpha {alpha} (p = {p:.3g}, {sided})"), alpha=0.05, p=0.01234, sided=sided)
    joined = joined + Phrase(N_("; weighted"))
    set_language("zh-TW")
    assert str(line).startswith("Weight: w;") and json.dumps([line]) == json.dumps([str(line)])
    assert shown(line) == "權數：w；同時列出加權與未加權基數；檢定使用有效基數。"
    assert str(joined) == "significant at alpha 0.05 (p = 0.0123, one-sided); weighted"
    assert shown(joined) == "在顯著水準 0.05 下顯著（p = 0.0123，單尾）；已加權"  # the nested Phrase too
    again = pickle.loads(pickle.dumps(joined))
    assert again == joined and shown(again) == shown(joined)
    assert shown("a label the tool did not write") == "a label the tool did not write"
    set_language("en")
    assert shown(joined) == str(joined)


def test_interviewer_table_lines_up_by_display_width() -> None:
    from survey_tui.tui.screens.analysis import interviewer_lines

    stats = [
        quality.InterviewerStats("張家豪", 38, 4.0, 0.026, 0.32, 0.5, 19),
        quality.InterviewerStats("Amy", 139, 12.25, 0.0, 0.0, 0.0, 0),
    ]
    for lang in ("en", "zh-TW"):
        set_language(lang)
        lines = interviewer_lines(stats)
        assert len({cell_len(line) for line in lines}) == 1, lines  # right-justified columns end together
        # every number ends in the display column where its header ends (the first column starts together)
        ends = [[cell_len(line[: m.end()]) for m in re.finditer(r"\S+(?: \S+)*", line)] for line in lines]
        assert all(e[1:] == ends[0][1:] for e in ends), lines
    assert "不知道比例" in lines[0] and "DK rate" not in lines[0]


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _round in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_analysis_in_zh_tw_quality_hypotheses_and_tables(demo_study_dir: Path) -> None:
    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang="zh-TW")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        screen = app.screen
        summary = str(screen.query_one("#quality-summary", Static).render())
        assert summary.startswith("完訪 ") and "作答過快" in summary, summary
        assert "complete interviews" not in summary and "speeder" not in summary
        flagged = screen.query_one("#quality-table", DataTable)
        row = flagged.get_row_at(0)
        assert has_cjk(str(row[3])) and not any(c.isascii() and c.isalpha() for c in str(row[3])), row
        assert str(row[4]) in ("已排除", "已保留", "—")
        stats = str(screen.query_one("#interviewer-stats", Static).render())
        assert "分鐘中位數" in stats and "median min" not in stats

        # hypotheses: tests and verdicts in Chinese, the explanation too; the result keeps its English
        verdicts = screen.query_one("#hypothesis-table", DataTable)
        words = {"獲得支持", "未獲支持", "未被拒絕", "被拒絕", "無法檢定"}
        assert verdicts.row_count and all(str(verdicts.get_row_at(i)[-1]) in words for i in range(verdicts.row_count))
        assert all(has_cjk(str(verdicts.get_row_at(i)[1])) for i in range(verdicts.row_count))
        result = next(r for r in screen.results if r.p_value is not None)
        assert result.verdict in hypotheses.VERDICTS and not has_cjk(result.explanation)
        verdicts.focus()
        verdicts.move_cursor(row=screen.results.index(result))
        await pilot.pause()
        detail = str(screen.query_one("#hypothesis-detail", Static).render())
        assert "顯著" in detail and "significant" not in detail, detail
        assert "組別" in detail or "變數" in detail or "門檻 %" in detail, detail

        # tables: the footnote in Chinese on screen, the report's markdown of the same table in English
        await pilot.press("t")
        await settle(app, pilot)
        footnote = str(screen.query_one("#table-footnote", Static).render())
        assert "字母：" in footnote and "篩選條件：" in footnote and "Letters:" not in footnote, footnote
        from survey_tui.analysis.tables import table_markdown

        markdown = table_markdown(screen.current_table, "zh-TW")
        assert "Letters: column proportions (pooled z)" in markdown and "字母：" not in markdown


def test_hypothesis_problem_is_english_for_the_report_and_chinese_on_screen(demo_study_dir: Path) -> None:
    from types import SimpleNamespace

    from survey_tui.analysis.dataset import load_dataset

    dataset = load_dataset(open_study(demo_study_dir))
    h = SimpleNamespace(
        id="HX", statement="x", test="difference_of_proportions", outcome="s3", codes=[1], groups=[], by=None,
        subset=None, alpha=0.05, expected="higher", threshold=None,
    )  # fmt: skip
    result = hypotheses.evaluate(dataset, h)
    assert result.verdict == "not testable"
    assert str(result.explanation) == "HX: say which groups to compare (groups: or by:)"
    set_language("zh-TW")
    assert shown(result.explanation) == "HX：請指定要比較的組別（groups: 或 by:）"


def test_export_progress_and_warnings_in_zh_tw_manifest_in_english(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    argv = ["--ui-lang", "zh-TW", "export", "--study", str(root), "--format", "xlsx", "--xlsx-stream-rows", "10"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "正在寫出 Excel" in out and "篩選：僅完訪" in out and "列 × " in out, out
    assert "警告：xlsx 以低記憶體模式寫出" in err and "constant-memory" not in err, err
    manifest = json.loads(next((root / "exports").glob("*_manifest.json")).read_text(encoding="utf-8"))
    assert manifest["filters"][0] == "completed interviews only"
    assert manifest["warnings"] and manifest["warnings"][0].startswith("xlsx written in constant-memory mode")


def test_check_in_zh_tw_keeps_the_located_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import SMALL

    init_study(tmp_path / "s", "T", "ACME", ["zh-TW", "en"])
    broken = textwrap.dedent(SMALL).replace("choices: yes_no", "choices: yes_nope", 1).replace("min: 0", "min: 200")
    (tmp_path / "s" / "instruments" / "small.yaml").write_text(broken, encoding="utf-8")
    assert main(["check", "--ui-lang", "zh-TW", "--study", str(tmp_path / "s")]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if ": error:" in line]
    assert any("[drinks]" in s and "不明的選項清單「yes_nope」" in s and "您是指「yes_no」嗎？" in s for s in lines), (
        lines
    )
    assert any("最小值 200 大於最大值 120" in line for line in lines), lines
    assert "unknown choice list" not in out and "個錯誤" in out
    assert main(["check", "--study", str(tmp_path / "s")]) == 1  # English again without the option
    assert "unknown choice list 'yes_nope'" in capsys.readouterr().out


def test_logic_errors_in_the_interface_language() -> None:
    set_language("zh-TW")
    with pytest.raises(ExpressionError) as caught:
        parse_expression("age >")
    assert caught.value.message == "此處應為一個值" and "位置 6" in str(caught.value)
    with pytest.raises(ExpressionError) as caught:
        parse_expression("selectd(a, 1)")
    assert caught.value.message == "不明的函數「selectd」，您是指「selected」嗎？"
    set_language("en")
    with pytest.raises(ExpressionError) as caught:
        parse_expression("age >")
    assert str(caught.value) == "expected a value at position 6"


async def test_form_validation_in_zh_tw_for_a_questionnaire_language_the_tool_lacks(tmp_path: Path) -> None:
    """A French questionnaire: the author's constraint message stays French, the tool's own messages come in
    the interface language (zh-TW), not English."""
    from textual.widgets import Input

    from survey_tui.core.interview.capture import start_session
    from survey_tui.tui.interview_app import InterviewApp

    root = tmp_path / "s"
    init_study(root, "T", "ACME", ["fr"])
    (root / "instruments" / "petit.yaml").write_text(textwrap.dedent(FRENCH), encoding="utf-8")
    study = open_study(root)
    study.publish("petit")
    session = start_session(study, interviewer="amy")
    app = InterviewApp(study, session=session, once=True, ui_lang="zh-TW")
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        message = app.screen.query_one("#iv-message", Static)
        field = app.screen.query_one("#iv-input", Input)
        await pilot.press("enter")
        await pilot.pause()
        assert "此題必答" in str(message.render()) and "required" not in str(message.render())
        for keys, expected in ((["1", "3", "0"], "最大值為 120"), (["backspace"] * 3 + ["7"], "Pas sept")):
            await pilot.press(*keys, "enter")
            await pilot.pause()
            assert expected in str(message.render()), str(message.render())
        assert app.focused is field and session.store.answers(session.interview_id) == {}


def test_plan_checks_in_the_interface_language(demo_study_dir: Path) -> None:
    from survey_tui.core.plan.model import check_hypothesis

    study = open_study(demo_study_dir)
    instruments, _problems = study.load_instruments()
    first = next(h for h in study.config.hypotheses if h.codes)
    broken = first.model_copy(update={"codes": [4242], "objective": "O9"})
    objectives = [o.id for o in study.config.objectives]
    set_language("zh-TW")
    messages = {p.where: p for p in check_hypothesis(broken, instruments.values(), objectives)}
    assert "沒有代碼 4242" in messages["codes"].message and "codes:" in (messages["codes"].hint or "")
    assert messages["objective"].message == "研究目標「O9」不在 objectives 中"
    assert messages["objective"].hint.startswith("已有：")
    set_language("en")
    messages = {p.where: p for p in check_hypothesis(broken, instruments.values(), objectives)}
    assert messages["codes"].message == f"hypothesis {first.id}: {first.outcome} has no code 4242"
