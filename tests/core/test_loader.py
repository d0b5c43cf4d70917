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


def _broken_instrument(broken: int, loop_broken: bool = False) -> str:
    """`broken` numeric questions after the first, each with a different broken relevance (its own mistake)."""
    mistakes = ["q00 = 1 or", "q00 ==", "(q00 > 1", "q00 > 1)", "q00 = = 2", "q00 in 1", "not", "q00 & 1"]
    lines = ["id: x", "title: {en: X}", "languages: [en]", "sections:", "  - name: s1", "    questions:"]
    lines += ["      - {name: q00, type: numeric, label: {en: Q}, min: 0, max: 9}"]
    for index in range(1, broken + 1):
        relevant = mistakes[index % len(mistakes)]
        lines += [f"      - name: q{index:02d}", "        type: numeric", "        label: {en: Q}"]
        lines += ["        min: 0", "        max: 9", f"        relevant: '{relevant}'"]
    if loop_broken:
        lines += ["  - name: l1", "    loop: {choices: stores, label: {en: S}}", "    questions:"]
        lines += ["      - {name: lq, type: numeric, label: {en: L}, min: 0, max: 9, relevant: 'q00 ='}"]
        lines[3:3] = ["choice_lists:", "  stores: [{code: 1, label: {en: A}}, {code: 2, label: {en: B}}]"]
    return "\n".join(lines) + "\n"


def test_the_first_twenty_broken_expressions_are_described_and_the_rest_counted_where_they_start() -> None:
    """Like a compiler's error limit: lark words each syntax error in about a millisecond, so an instrument
    of thousands (one mistake copied down) took `check` seconds; past MAX_WORDED_ERRORS they are counted."""
    from survey_tui.core.instrument.expressions import MAX_WORDED_ERRORS, ExpressionError, parse_expression

    def lark_message(relevant: str) -> str:
        try:
            parse_expression.__wrapped__(relevant)
        except ExpressionError as exc:
            return f"relevant: {exc.message} at position {exc.position} in '{relevant}'"
        raise AssertionError(relevant)

    few = _broken_instrument(MAX_WORDED_ERRORS)
    instrument, problems = load_instrument_text(few, "few.yaml")
    assert instrument is None and len(problems) == MAX_WORDED_ERRORS
    assert all("more expressions do not parse" not in p.message for p in problems)

    text = _broken_instrument(MAX_WORDED_ERRORS + 7, loop_broken=True)
    instrument, problems = load_instrument_text(text, "many.yaml")
    assert instrument is None and len(problems) == MAX_WORDED_ERRORS + 1
    lines = text.splitlines()
    for index, problem in enumerate(problems[:-1], start=1):  # each worded by lark, in the order written
        relevant = lines[problem.line - 1].split("relevant: ")[1].strip("'")
        assert problem.where == f"q{index:02d}" and problem.message == lark_message(relevant)
    summary = problems[-1]
    first = MAX_WORDED_ERRORS + 1
    assert summary.where == f"q{first:02d}" and lines[summary.line - 1].strip().startswith("relevant:")
    assert lines[summary.line - 6].strip() == f"- name: q{first:02d}"
    # seven questions and the loop's template once (not once per store), the first five named
    assert summary.message.startswith(f"8 more expressions do not parse (q{first:02d} relevant, ")
    assert summary.message.endswith(f", ...); only the first {MAX_WORDED_ERRORS} are described")
    assert summary.hint and "fix the expressions described above first" in summary.hint
