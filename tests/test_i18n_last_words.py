"""The last English on zh-TW screens: the demo reviewer's quality reasons, respondent attributes by their
labels, the CLI's failure words and the hypothesis direction words, in both interface languages, while what
goes into the store, the report and the files beside it stays as it was."""

from __future__ import annotations

import argparse
import csv
import errno
import shutil
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from survey_tui.analysis import quality
from survey_tui.cli import describe_failure, main
from survey_tui.core.fieldwork.attribute_words import AttributeWords
from survey_tui.core.plan.model import Group, Hypothesis
from survey_tui.core.study import open_study
from survey_tui.i18n import set_language, shown
from survey_tui.tui.app import SurveyApp


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


async def settle(app: SurveyApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _round in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


# -- 1. quality reasons ---------------------------------------------------------------------------------


def test_a_tool_reason_is_translated_with_its_numbers_and_a_researchers_is_not() -> None:
    written = quality.TOOL_REASONS[0].format(minutes=1.23, median=6.5)
    assert written == "speeder: 1.2 min, under a third of the median 6.5 min"
    set_language("zh-TW")
    assert quality.reason_shown(written) == "作答過快：1.2 分鐘，不到中位數 6.5 分鐘的三分之一"
    assert quality.reason_shown(quality.TOOL_REASONS[1]) == "已回電：受訪者確認了答案"
    own = "speeder: looked rushed to me"  # a researcher's words that start like the tool's
    assert quality.reason_shown(own) == own and quality.reason_shown(None) is None
    set_language("en")
    assert quality.reason_shown(written) == written


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_quality_reasons_on_screen_and_english_in_the_report_files(demo_study_dir: Path, lang: str) -> None:
    study = open_study(demo_study_dir)
    with study.store() as store:
        stored = [reason for _decision, reason in quality.latest_decisions(store).values()]
    assert any(r and r.startswith("speeder: ") for r in stored), stored
    app = SurveyApp(study, keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        table = app.screen.query_one("#quality-table", DataTable)
        reasons = [str(table.get_row_at(i)[5]) for i in range(table.row_count)]
    decided = [r for r in reasons if "中位數" in r or "median" in r]
    assert len(decided) == len([r for r in stored if r and r.startswith("speeder: ")]), reasons
    if lang == "zh-TW":
        assert all(r.startswith("作答過快：") and "分鐘的三分之一" in r for r in decided), reasons
        assert not any("under a third" in r for r in reasons)
    else:
        assert set(decided) <= set(stored) and not any(has_cjk(r) for r in decided), reasons


def test_the_exclusions_file_beside_the_report_keeps_the_english_reasons(demo_study_dir: Path, tmp_path: Path) -> None:
    from survey_tui.report.full_report import EXCLUDED_FILE, write_report

    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    study = open_study(root)
    set_language("zh-TW")  # the interface language does not reach the files
    write_report(study, ("md",))
    with (study.exports_dir / EXCLUDED_FILE).open(encoding="utf-8", newline="") as f:
        reasons = [row["reason"] for row in csv.DictReader(f)]
    with study.store() as store:
        stored = [r for decision, r in quality.latest_decisions(store).values() if decision == "exclude"]
    # the reasons as stored (the demo's tool wordings, and whatever another test of this run decided), none
    # translated on the way to the file
    assert sorted(reasons) == sorted(stored)
    assert any(r.startswith("speeder: ") and "under a third of the median" in r for r in reasons), reasons
    assert not any(has_cjk(r) for r in reasons)


# -- 2. respondent attributes ---------------------------------------------------------------------------


def test_attribute_words_from_the_instrument_and_study_yaml(demo_study_dir: Path) -> None:
    """gender: the banner's label, the choice list `gender`; age: the question its quota reads with
    coalesce(s2, age); region: stored as text, so no code to look up; an unknown name stays a name."""
    study = open_study(demo_study_dir)
    instruments, _problems = study.load_instruments()
    words = AttributeWords(instruments.values(), study.config, "zh-TW")
    assert words.label("gender") == "性別 gender" and words.value("gender", 2) == "女性"
    assert words.label("age") == "請問您今年幾歲？" and words.value("age", 30) is None
    assert words.label("region") == "地區 region" and words.value("region", "南部") is None
    assert words.value("region", 1) == "北部（基隆、台北、新北、桃園、新竹、宜蘭）"
    assert words.label("shoe_size") == "shoe_size" and words.value("shoe_size", 1) is None
    english = AttributeWords(instruments.values(), study.config, "en")
    assert english.label("age") == "How old are you?" and english.value("gender", 1) == "Male"
    assert english.value("gender", True) is None  # a flag is not code 1


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_respondent_detail_shows_labels_in_the_study_language(demo_study_dir: Path, lang: str) -> None:
    study = open_study(demo_study_dir)
    app = SurveyApp(study, keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        respondent = screen.current_respondent()
        assert respondent is not None and respondent.attributes.get("gender") in (1, 2, 3)
        detail = str(screen.query_one("#respondent-detail", Static).render())
    gender = {1: "男性", 2: "女性", 3: "其他／多元性別"}[respondent.attributes["gender"]]
    colon = "：" if lang == "zh-TW" else ": "  # the interface's punctuation, the study's words
    assert f"性別 gender{colon}{gender}" in detail, detail  # the study speaks zh-TW whatever the interface
    assert f"請問您今年幾歲？{colon}{respondent.attributes['age']}" in detail
    assert "  gender:" not in detail and "  age:" not in detail
    assert ("屬性：" in detail) == (lang == "zh-TW") and ("attributes:" in detail) == (lang == "en")


# -- 3. the CLI's failure words -------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "words"), [("en", "this already exists"), ("zh-TW", "此項目已存在")])
def test_a_file_system_failure_in_the_interface_language(
    demo_study_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    words: str,
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    (root / "exports").write_text("a file where the exports folder goes\n", encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["--ui-lang", lang, "export"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"survey-tui export: {root / 'exports'}: {words}"), err
    assert has_cjk(err) == (lang == "zh-TW")


def test_every_failure_kind_in_both_languages(tmp_path: Path) -> None:
    args = argparse.Namespace(command="tables", study=str(tmp_path))
    try:
        sqlite3.connect(":memory:").execute("SELEC 1")
    except sqlite3.Error as exc:
        database = exc
    try:
        int("x")
    except ValueError as exc:
        other = exc
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out.sav"))
    cases = [
        (full, "the disk is full", "磁碟已滿"),
        (database, 'the study database failed: near "SELEC"', '研究資料庫發生錯誤：near "SELEC"'),
        (other, "cannot be processed (ValueError: invalid literal", "無法處理（ValueError: invalid literal"),
    ]
    for exc, english, chinese in cases:
        set_language("en")
        said = describe_failure(args, exc)
        assert said.startswith("survey-tui tables: ") and english in said, said
        set_language("zh-TW")
        said = describe_failure(args, exc)
        assert chinese in said and english.split(" (")[0] not in said, said
    assert describe_failure(args, full).startswith(f"survey-tui tables: {tmp_path / 'out.sav'}: ")


# -- 4. hypothesis direction words ----------------------------------------------------------------------


def test_direction_words_stay_english_for_reports_and_are_shown_in_zh_tw() -> None:
    def hypothesis(**fields: object) -> Hypothesis:
        return Hypothesis(id="H1", statement="s", objective="O1", outcome="q1", **fields)  # type: ignore[arg-type]

    share = hypothesis(test="share_vs_threshold", expected="higher", threshold=0.3)
    groups = hypothesis(
        test="difference_of_proportions",
        expected="lower",
        groups=[Group(label="北部", when="s4 = 1"), Group(label="南部", when="s4 = 3")],
    )
    unnamed = hypothesis(test="difference_of_means", expected="higher", by="s4")
    correlation = hypothesis(test="correlation", expected="different", by="q2")
    set_language("zh-TW")
    assert str(share.expected_text()) == "share above the threshold"  # what a written report takes
    assert shown(share.expected_text()) == "比例高於門檻"
    assert str(groups.expected_text()) == "北部 lower" and shown(groups.expected_text()) == "北部較低"
    assert str(unnamed.expected_text()) == "the first group higher" and shown(unnamed.expected_text()) == "第一組較高"
    assert shown(correlation.expected_text()) == "雙尾：任何相關"
    set_language("en")
    assert shown(correlation.expected_text()) == "two-sided: any correlation"
