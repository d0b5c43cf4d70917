"""Loading instruments: every problem at once, located by file, line and question, never a traceback."""

from __future__ import annotations

import textwrap

from survey_tui.core.instrument.loader import load_instrument_text
from tests.conftest import SMALL


def problems_of(text: str) -> list[str]:
    instrument, problems = load_instrument_text(textwrap.dedent(text), "broken.yaml")
    assert instrument is None
    return [str(p) for p in problems]


def test_the_small_instrument_loads_cleanly() -> None:
    instrument, problems = load_instrument_text(SMALL, "small.yaml")
    assert instrument is not None and problems == []
    assert [q.name for q in instrument.questions][:3] == ["age", "drinks", "aware"]
    assert instrument.question("sat").variable_names() == ["sat_taste", "sat_price"]
    assert instrument.question("aware").variable_names() == ["aware_1", "aware_2", "aware_3", "aware_97"]


def test_yaml_syntax_error_is_located() -> None:
    found = problems_of("id: x\nsections:\n  - name: a\n    questions: [\n")
    assert len(found) == 1 and found[0].startswith("broken.yaml:") and "YAML syntax" in found[0]


def test_all_problems_are_reported_at_once_with_lines_and_question_names() -> None:
    text = SMALL.replace("type: single\n        label: {zh-TW: 您喝", "type: singel\n        label: {zh-TW: 您喝")
    text = text.replace(
        "      - name: why\n        type: text\n",
        "      - name: why\n        type: text\n        relevent: drinks = 1\n",
    )
    found = problems_of(text)
    assert len(found) == 2, found
    typo = next(p for p in found if "singel" in p)
    assert "[drinks]" in typo and "broken.yaml:" in typo
    unknown = next(p for p in found if "relevent" in p)
    assert "did you mean 'relevant'" in unknown and "[why]" in unknown
    line = int(unknown.split(":")[1])
    assert (
        SMALL.splitlines()[line - 1].strip().startswith("- name: why")
        or "relevent" in textwrap.dedent(text).splitlines()[line - 1]
    )


def test_semantic_errors_name_the_question_and_the_position_in_the_expression() -> None:
    text = SMALL.replace(
        "relevant: count_selected(aware) >= 1 and not selected(aware, 97)",
        "relevant: count_selected(awar) >= 1 and spend > 3",
    )
    text = text.replace("calculate: spend * 3", "calculate: spend * (3")
    found = problems_of(text)
    assert any(
        "[favourite]" in p and "unknown name 'awar' at position 16" in p and "did you mean 'aware'" in p for p in found
    ), found
    assert any("[favourite]" in p and "'spend', which is asked later" in p for p in found), found
    assert any("[weekly]" in p and "calculate" in p and "position" in p for p in found), found


def test_piping_a_later_answer_is_an_error() -> None:
    text = SMALL.replace("為什麼最常買{favourite}？", "為什麼最常買{spend}？")
    found = problems_of(text)
    assert any("[why]" in p and "'spend', which is asked later" in p for p in found), found


def test_unknown_choice_list_and_duplicate_codes() -> None:
    text = SMALL.replace("choices: yes_no", "choices: yesno").replace(
        "- {code: 2, label: {zh-TW: 乙牌", "- {code: 1, label: {zh-TW: 乙牌"
    )
    found = problems_of(text)
    assert any("unknown choice list 'yesno'" in p and "did you mean 'yes_no'" in p for p in found), found
    assert any("choice code 1 appears twice" in p for p in found), found


def test_duplicate_question_names_and_invalid_names() -> None:
    text = SMALL.replace("- name: why", "- name: aware").replace("- name: visit", "- name: 1visit")
    found = problems_of(text)
    assert any("'aware' is used twice" in p for p in found), found
    assert any("1visit" in p and "must start with a letter" in p for p in found), found


def test_special_code_colliding_with_a_choice_code() -> None:
    text = SMALL.replace("{code: 97, label: {zh-TW: 都沒有", "{code: 98, label: {zh-TW: 都沒有")
    found = problems_of(text)
    assert any("choice code 98 is also the don't know code" in p for p in found), found


def test_missing_translation_is_a_warning_not_an_error() -> None:
    text = SMALL.replace("label: {zh-TW: 您幾歲？, en: How old are you?}", "label: {zh-TW: 您幾歲？}")
    instrument, problems = load_instrument_text(text, "small.yaml")
    assert instrument is not None
    assert [p.severity for p in problems] == ["warning"] and "no text for en" in str(problems[0])


def test_not_a_mapping_and_empty_file() -> None:
    assert "must be a mapping" in problems_of("- just\n- a list\n")[0]
    assert "empty" in problems_of("")[0]


def test_missing_translations_are_found_in_choice_lists_grid_items_and_sections() -> None:
    text = SMALL.replace('- {code: 2, label: {zh-TW: 否, en: "No"}}', "- {code: 2, label: {zh-TW: 否}}")
    text = text.replace("- {name: price, label: {zh-TW: 價格, en: Price}}", "- {name: price, label: {en: Price}}")
    text = text.replace("label: {zh-TW: 品牌, en: Brands}", "label: {zh-TW: 品牌}")
    instrument, problems = load_instrument_text(text, "small.yaml")
    assert instrument is not None and all(p.severity == "warning" for p in problems)
    found = [str(p) for p in problems]
    assert any("choice list yes_no" in p and "no text for en" in p for p in found), found
    assert any("[sat]" in p and "no text for zh-TW" in p for p in found), found
    assert any("section brands" in p and "no text for en" in p for p in found), found


def test_alias_bombs_and_deep_nesting_are_refused_quickly() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        bomb += f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    found = problems_of(bomb)
    assert "nested aliases" in found[0]
    assert problems_of("x: " + "[" * 500 + "]" * 500 + "\n")  # reported, not a RecursionError


def test_shape_errors_outside_questions_do_not_hide_logic_errors() -> None:
    text = SMALL.replace("  yes_no:\n    - {code: 1,", "  yes_no:\n    - {cod: 1,")  # a typo in a choice list
    text = text.replace("label: {zh-TW: 品牌, en: Brands}", "label: {zh-TW: 品牌, en: Brands}\n    relevnt: x")
    text = text.replace("calculate: spend * 3", "calculate: spendd * 3")  # a logic error elsewhere
    found = problems_of(text)
    assert any("unknown field 'cod'" in p for p in found), found
    assert any("unknown field 'relevnt'" in p for p in found), found
    assert any("[weekly]" in p and "unknown name 'spendd'" in p for p in found), found
    assert not any("unknown choice list 'yes_no'" in p for p in found), found  # not reported twice
