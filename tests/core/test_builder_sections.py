"""Editing sections of an instrument file: name, labels, relevant, add and delete, comments kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey_tui.core.instrument.builder import EditError, InstrumentDraft
from survey_tui.core.instrument.loader import load_instrument

DEMO = Path(__file__).resolve().parents[2] / "instruments" / "bubble_tea_brand_health.yaml"


@pytest.fixture
def draft_file(tmp_path: Path) -> Path:
    target = tmp_path / "bt.yaml"
    shutil.copy(DEMO, target)
    return target


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("#")]


def test_section_fields_edit_in_place_and_keep_comments(draft_file: Path) -> None:
    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    usage = next(i for i, s in enumerate(draft.sections) if s["name"] == "usage")
    assert draft.section_data(usage)["name"] == "usage" and "questions" not in draft.section_data(usage)
    name = draft.update_section(
        usage, {"name": "usage2", "label": {"zh-TW": "飲用習慣", "en": "Drinking habits"}, "relevant": "s5 = 1"}
    )
    assert name == "usage2"
    problems = draft.save()
    assert [p for p in problems if p.severity == "error"] == []
    text = draft_file.read_text("utf-8")
    assert comments(text) == comments(original)
    instrument = load_instrument(draft_file)
    section = next(s for s in instrument.sections if s.name == "usage2")
    assert section.label == {"zh-TW": "飲用習慣", "en": "Drinking habits"}
    assert section.relevant == "s5 = 1"
    assert [q.name for q in section.questions][0] == "u1_freq"  # the questions stayed with it
    # relevant sits after the label (canonical order), and '' removes it again
    assert text.index("relevant: s5 = 1") < text.index("- name: u1_freq")
    draft.update_section(usage, {"relevant": ""})
    draft.save()
    assert load_instrument(draft_file).sections[usage].relevant is None


def test_add_and_delete_section(draft_file: Path) -> None:
    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    index = draft.add_section("extra", {"zh-TW": "額外", "en": "Extra"}, after=0)
    assert index == 1
    draft.save()
    text = draft_file.read_text("utf-8")
    assert comments(text) == comments(original)
    # the header comment of the awareness section still introduces it, not the new section
    header = text.index("# 2. Brand awareness")
    assert text.index("- name: extra") < header < text.index("- name: awareness")
    with pytest.raises(EditError, match="already used"):
        draft.add_section("extra", {"en": "Again"})
    with pytest.raises(EditError, match="must start with a letter"):
        draft.add_section("1bad", {"en": "Bad"})
    with pytest.raises(EditError, match="still has"):
        draft.delete_section(0)
    draft.add_question({"name": "x1", "type": "text", "label": {"en": "X"}}, section=1)
    with pytest.raises(EditError, match="still has 1 question"):
        draft.delete_section(1)
    draft.delete_question("x1")
    removed = draft.delete_section(1)
    assert removed["name"] == "extra"
    draft.save()
    assert draft_file.read_text("utf-8") == original  # add then delete leaves the file as it was


def test_section_relevant_checked_as_typed(draft_file: Path) -> None:
    draft = InstrumentDraft.open(draft_file)
    awareness = next(i for i, s in enumerate(draft.sections) if s["name"] == "awareness")
    assert draft.check_section_logic(awareness, "s5 = 1") == []
    later = draft.check_section_logic(awareness, "u1_freq = 1")
    assert len(later) == 1 and "asked later" in later[0].message and "position 1" in later[0].message
    unknown = draft.check_section_logic(awareness, "s5 = 1 and nosuch = 2")
    assert "unknown name 'nosuch' at position 12" in unknown[0].message
    syntax = draft.check_section_logic(awareness, "s5 >= ")
    assert syntax and "position" in syntax[0].message


def test_last_section_cannot_be_deleted(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("id: one\nlanguages: [en]\nsections:\n  - name: main\n    questions: []\n", "utf-8")
    draft = InstrumentDraft.open(path)
    with pytest.raises(EditError, match="at least one section"):
        draft.delete_section(0)


def test_a_section_becomes_a_loop_and_back_and_a_bad_loop_is_refused_with_its_location(draft_file: Path) -> None:
    from survey_tui.core.instrument.builder import EditRefused

    original = draft_file.read_text("utf-8")
    draft = InstrumentDraft.open(draft_file)
    loop = next(i for i, s in enumerate(draft.sections) if s["name"] == "brand_loop")
    assert draft.section_data(loop)["loop"]["over"] == "a2_aided"
    # the brands bought instead of the brands heard of, and the client brand left out
    draft.set_loop(loop, {"over": "a3_ever", "exclude": [1, 96], "label": {"zh-TW": "品牌", "en": "Brand"}})
    draft.save()
    instrument = load_instrument(draft_file)
    plan = instrument.loops["brand_loop"]
    assert plan.source == "a3_ever" and plan.keys == (2, 3, 4, 5, 6, 7, 8, 9)
    text = draft_file.read_text("utf-8")
    assert comments(text) == comments(original) and "exclude: [1, 96]" in text
    # a count over a question asked later is refused, and the file keeps the loop it had
    with pytest.raises(EditRefused) as refused:
        draft.set_loop(loop, {"count": "d4_household"})
    assert any("loop brand_loop" in str(p) and "asked later" in str(p) for p in refused.value.problems)
    assert draft.section_data(loop)["loop"]["over"] == "a3_ever"
    with pytest.raises(EditError, match="exactly one"):
        draft.set_loop(loop, {"over": "a2_aided", "count": "s2"})
    # a fixed list, then an ordinary section again: its questions are asked once
    draft.set_loop(loop, {"choices": "brands", "exclude": [96]})
    draft.save()
    assert load_instrument(draft_file).has_question("l1_fam_1")
    # no longer a loop: refused while the labels still pipe the loop's item, taken once they do not
    with pytest.raises(EditRefused) as piped:
        draft.set_loop(loop, None)
    assert any("[l1_fam]" in str(p) and "'brand_loop'" in str(p) for p in piped.value.problems)
    for name in ("l1_fam", "l2_image"):
        labels = draft.question_data(name)["label"]
        draft.update_question(name, {"label": {k: v.replace("${brand_loop}", "the brand") for k, v in labels.items()}})
    draft.set_loop(loop, None)
    draft.save()
    plain = load_instrument(draft_file)
    assert plain.loops == {} and plain.has_question("l1_fam") and not plain.has_question("l1_fam_1")
