"""Editing instrument files: comments and key order survive, logic is checked as typed, saves are atomic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey_tui.core.instrument.builder import QUESTION_KEYS, EditError, InstrumentDraft
from survey_tui.core.instrument.loader import load_instrument

DEMO = Path(__file__).resolve().parents[2] / "instruments" / "bubble_tea_brand_health.yaml"


@pytest.fixture
def draft_file(tmp_path: Path) -> Path:
    target = tmp_path / "bt.yaml"
    shutil.copy(DEMO, target)
    return target


def test_edits_keep_comments_order_and_load(draft_file: Path) -> None:
    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    draft.update_question("u8_own_cup", {"label": {"zh-TW": "您會自備環保杯嗎？", "en": "Do you bring your own cup?"}})
    draft.add_question(
        {
            "required": False,
            "label": {"zh-TW": "還有其他意見嗎？", "en": "Anything else?"},
            "type": "text",
            "name": "u9_other",
        },
        after="u8_own_cup",
    )
    draft.duplicate_question("s3")
    draft.move_question("b1_consider", -1)  # crosses into the previous section
    draft.delete_question("d6_end")  # the last question of the last section
    problems = draft.save()
    assert [p for p in problems if p.severity == "error"] == []
    text = draft_file.read_text("utf-8")
    for line in original.splitlines():
        if line.strip().startswith("#"):
            assert line in text, f"comment lost: {line}"
    assert text.count("# 4. Client brand health") == 1
    instrument = load_instrument(draft_file)
    names = [q.name for q in instrument.questions]
    assert names.index("u9_other") == names.index("u8_own_cup") + 1
    assert names[names.index("s3") + 1] == "s3_copy"
    assert instrument.section_of("b1_consider").name == "usage"
    assert "d6_end" not in names
    assert instrument.question("u8_own_cup").label["en"] == "Do you bring your own cup?"
    added = draft.question_data("u9_other")
    assert list(added) == [k for k in QUESTION_KEYS if k in added]  # canonical key order, not the order given
    # the label kept its block style (one key per line), as the researcher wrote it
    assert "        label:\n          zh-TW: 您會自備環保杯嗎？" in text


def test_check_logic_as_typed_reports_position_unknown_and_later_names(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    assert draft.check_logic("u8_own_cup", "relevant", "s5 = 1") == []
    syntax = draft.check_logic("u8_own_cup", "relevant", "s5 = = 1")
    assert syntax and "position 6" in syntax[0].message
    unknown = draft.check_logic("u8_own_cup", "relevant", "s5 = 1 and s55 = 2")
    assert "unknown name 's55' at position 12" in unknown[0].message and unknown[0].hint == "did you mean 's5'?"
    later = draft.check_logic("u8_own_cup", "relevant", "n2_intent > 3")
    assert "asked later" in later[0].message
    assert draft.check_logic("u8_own_cup", "constraint", ". = 1") == []


def test_bad_edits_are_refused_with_a_reason(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    with pytest.raises(EditError, match="already used"):
        draft.add_question({"name": "s2", "type": "text", "label": "x"})
    with pytest.raises(EditError, match="must start with a letter"):
        draft.update_question("s2", {"name": "2s"})
    with pytest.raises(EditError, match="code 1 appears twice"):
        draft.set_choices("yes_no", [{"code": 1, "label": {"en": "a"}}, {"code": 1, "label": {"en": "b"}}])
    with pytest.raises(EditError, match="already the first"):
        draft.move_question("s1", -1)
    assert "a5_why" in draft.references_to("a4_bumo")


def test_choices_edit_in_place(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    draft.add_choice("yes_no", 3, {"zh-TW": "看情況", "en": "It depends"})
    draft.move_choice("yes_no", 3, -1)
    draft.delete_choice("yes_no", 1)
    draft.save()
    codes = [c.code for c in load_instrument(draft_file).question("s5").choice_options]
    assert codes == [3, 2]
