"""Loops in the instrument: the YAML shape, the names every iteration gets, and located loop errors."""

from __future__ import annotations

from pathlib import Path

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.instrument.model import Instrument

LOOPS = (Path(__file__).parent / "loop_instrument.yaml").read_text(encoding="utf-8")


def load(text: str = LOOPS) -> Instrument:
    instrument, problems = load_instrument_text(text, "loops.yaml")
    assert instrument is not None, [str(p) for p in problems]
    return instrument


def problems_of(text: str) -> list[str]:
    instrument, problems = load_instrument_text(text, "loops.yaml")
    assert instrument is None
    return [str(p) for p in problems]


def test_iterations_are_named_by_choice_code_or_by_number_in_iteration_order() -> None:
    ins = load()
    names = [q.name for q in ins.questions]
    # the exclusive "None" (97) never loops; a count loop runs 1 .. the count's max
    assert names[:8] == ["aware", "hh", "fam_1", "why_1", "fam_2", "why_2", "fam_3", "why_3"]
    assert names[8:] == [f"{t}_{i}" for i in range(1, 7) for t in ("age", "older")]
    plan = ins.loops["brand_loop"]
    assert plan.kind == "over" and plan.source == "aware" and plan.keys == (1, 2, 3)
    assert ins.loops["members"].keys == tuple(range(1, 7))
    slot = ins.question("why_2").slot
    assert slot is not None and (slot.loop, slot.template, slot.key, slot.iteration) == ("brand_loop", "why", 2, 2)
    assert [q.name for q in ins.iterations("fam")] == ["fam_1", "fam_2", "fam_3"]


def test_labels_pipe_the_item_and_this_iterations_answers() -> None:
    ins = load()
    assert ins.question("fam_1").label == {
        "zh-TW": "關於「50嵐」，您有多熟悉？",
        "en": "How familiar are you with 50 Lan?",
    }
    assert ins.question("why_2").label["en"] == "Why ${fam_2}?"
    assert ins.question("age_4").label["en"] == "Age of member 4?"


def test_expressions_are_bound_to_their_iteration() -> None:
    ins = load()
    why = ins.question("why_2").relevant_expr
    assert why is not None and why.names == {"aware", "fam_2"}
    older = ins.question("older_3").relevant_expr
    assert older is not None and older.names == {"hh", "age_3", "age_2"}
    # iteration 1 has no previous member: indexed(age, 0) reads as missing, so it never names age_0
    first = ins.question("older_1").relevant_expr
    assert first is not None and first.names == {"hh", "age_1"}


def test_a_loop_question_named_outside_its_loop_says_to_name_one_iteration() -> None:
    text = LOOPS.replace("relevant: fam >= 2 and item() != 3", "relevant: fam >= 2").replace(
        "      - {name: hh, type: numeric",
        "      - {name: hh, type: numeric",
    )
    text += "  - name: after\n    questions:\n      - {name: last, type: text, label: x, relevant: fam = 3}\n"
    found = problems_of(text)
    assert any(
        "[last]" in p and "'fam'" in p and "once per item of loop 'brand_loop'" in p and "fam_1" in p for p in found
    ), found


def test_loop_errors_are_located_once_at_the_template() -> None:
    text = LOOPS.replace("relevant: fam >= 2 and item() != 3", "relevant: fam >= 2 and nosuch = 1")
    found = problems_of(text)
    unknown = [p for p in found if "nosuch" in p]
    assert len(unknown) == 1, found  # one finding, not one per iteration
    assert "[why]" in unknown[0] and "in loop 'brand_loop'" in unknown[0]
    line = int(unknown[0].split(":")[1])
    assert "name: why" in LOOPS.splitlines()[line - 1] or "relevant:" in LOOPS.splitlines()[line - 1]


def test_a_loop_needs_a_usable_source() -> None:
    over_later = LOOPS.replace("over: aware", "over: fam")
    assert any("[loop brand_loop]" in p and "over: 'fam'" in p for p in problems_of(over_later))
    not_multi = LOOPS.replace("over: aware", "over: hh")
    assert any("over: 'hh' is a numeric question" in p for p in problems_of(not_multi))
    no_max = LOOPS.replace("min: 0, max: 6}", "min: 0}")
    assert any("count loop over 'hh' has no max" in p for p in problems_of(no_max))
    two = LOOPS.replace("over: aware", "over: aware\n      count: hh")
    assert any("exactly one of over:" in p for p in problems_of(two))
    clash = LOOPS.replace("  - name: members", "  - name: aware2").replace("${members}", "${aware2}")
    clash = clash.replace("{name: hh,", "{name: aware2_x, type: text, label: x}\n      - {name: hh,")
    assert load(clash).loops["aware2"].keys == tuple(range(1, 7))


def test_a_made_name_that_clashes_with_a_question_is_refused() -> None:
    text = LOOPS.replace("      - {name: hh,", "      - {name: fam_2, type: text, label: x}\n      - {name: hh,")
    found = problems_of(text)
    assert any("loop question 'fam' makes 'fam_2'" in p and "used twice" in p for p in found), found
