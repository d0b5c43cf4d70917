"""Editing the instrument's own fields and its terminate rules: kept comments, refused bad changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey_tui.core.instrument.builder import EditError, EditRefused, InstrumentDraft
from survey_tui.core.instrument.loader import load_instrument

DEMO = Path(__file__).resolve().parents[2] / "instruments" / "bubble_tea_brand_health.yaml"


@pytest.fixture
def draft_file(tmp_path: Path) -> Path:
    target = tmp_path / "bt.yaml"
    shutil.copy(DEMO, target)
    return target


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("#")]


def test_settings_edit_and_keep_comments(draft_file: Path) -> None:
    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    assert draft.settings_data()["title"]["en"].startswith("Bubble Tea Study")
    draft.update_settings(
        {
            "title": {"zh-TW": "珍奶研究 第二版", "en": "Bubble Tea Study v2"},
            "languages": ["zh-TW", "en", "ja"],
            "default_language": "en",
            "required_default": False,
            "special_codes": {
                "dont_know": {"code": -8, "label": {"zh-TW": "不清楚", "en": "Not sure"}},
                "refused": {"code": -9, "label": {"zh-TW": "不回答", "en": "No answer"}},
            },
        }
    )
    problems = draft.save()
    assert [p for p in problems if p.severity == "error"] == []
    text = draft_file.read_text("utf-8")
    assert comments(text) == comments(original)
    # the new key sits after required_default, before the choice lists header
    assert text.index("special_codes:") < text.index("# Choice lists")
    instrument = load_instrument(draft_file)
    assert instrument.title == {"zh-TW": "珍奶研究 第二版", "en": "Bubble Tea Study v2"}
    assert instrument.languages == ["zh-TW", "en", "ja"] and instrument.language == "en"
    assert instrument.required_default is False
    assert instrument.special_codes is not None and instrument.special_codes["dont_know"].code == -8
    assert instrument.special_codes["refused"].label["en"] == "No answer"
    # back to the study-wide codes: the override goes, the header comment stays
    draft.update_settings({"special_codes": None, "languages": ["zh-TW", "en"], "default_language": "zh-TW"})
    draft.save()
    text = draft_file.read_text("utf-8")
    assert "special_codes:\n  dont_know" not in text and comments(text) == comments(original)
    assert load_instrument(draft_file).special_codes is None


def test_bad_settings_are_refused_with_location_and_nothing_changes(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    before = draft.text()
    with pytest.raises(EditRefused) as info:
        draft.update_settings({"languages": ["zh-TW"], "default_language": "en"})
    assert any(p.line and "default language 'en'" in p.message for p in info.value.problems)
    # a don't-know code that is also a choice code breaks real questions: refused, naming them
    with pytest.raises(EditRefused) as info:
        draft.update_settings({"special_codes": {"dont_know": {"code": 1, "label": {"zh-TW": "不知道", "en": "DK"}}}})
    assert any("also the don't know code" in p.message and p.where for p in info.value.problems)
    with pytest.raises(EditError):
        draft.update_settings({"languages": ["zh-TW", "zh-TW"]})
    with pytest.raises(EditError):
        draft.update_settings({"id": "other"})
    assert draft.text() == before
    assert draft_file.read_text("utf-8") == DEMO.read_text("utf-8")


def test_terminate_rules_add_edit_delete(draft_file: Path) -> None:
    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    count = len(draft.terminate_rules())
    message = {"zh-TW": "男性樣本已額滿", "en": "Quota for men is full"}
    index = draft.add_terminate({"when": "s3 = 1", "outcome": "quota_full", "message": message})
    assert index == count
    draft.update_terminate(0, {"when": "s2 < 18 or s2 > 65"})
    draft.save()
    text = draft_file.read_text("utf-8")
    assert comments(text) == comments(original)
    instrument = load_instrument(draft_file)
    assert instrument.terminate[0].when == "s2 < 18 or s2 > 65"
    assert instrument.terminate[0].message == load_instrument(DEMO).terminate[0].message
    rule = instrument.terminate[index]
    assert (rule.when, rule.outcome, rule.message) == (
        "s3 = 1",
        "quota_full",
        {"zh-TW": "男性樣本已額滿", "en": "Quota for men is full"},
    )
    # the blank line before sections: stays after the last rule
    assert "\n\nsections:" in text
    removed = draft.delete_terminate(index)
    assert removed["when"] == "s3 = 1"
    draft.update_terminate(0, {"when": "s2 < 15 or s2 > 65"})
    draft.save()
    assert draft_file.read_text("utf-8") == original


def test_invalid_terminate_expression_refused_with_position(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    before = draft.text()
    findings = draft.check_terminate("s2 < ")
    assert findings and "position 5" in findings[0].message
    assert draft.check_terminate("s2 < 18") == []
    with pytest.raises(EditRefused) as info:
        draft.add_terminate({"when": "s3 = 1 and zz = 2"})
    problem = info.value.problems[0]
    assert "unknown name 'zz' at position 12" in problem.message and problem.line
    with pytest.raises(EditRefused):
        draft.update_terminate(1, {"when": "s5 = = 2"})
    with pytest.raises(EditError):
        draft.add_terminate({"when": "s3 = 1", "outcome": "finished"})
    assert draft.text() == before
