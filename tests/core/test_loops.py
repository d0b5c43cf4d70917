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


def test_excluded_codes_never_loop_and_an_unknown_one_is_refused() -> None:
    text = LOOPS.replace("over: aware\n", "over: aware\n      exclude: [2]\n")
    assert load(text).loops["brand_loop"].keys == (1, 3)
    assert not load(text).has_question("fam_2")
    wrong = LOOPS.replace("over: aware\n", "over: aware\n      exclude: [5]\n")
    assert any("exclude: 5 is not one of the loop's codes [1, 2, 3]" in p for p in problems_of(wrong))


CLOSEST = """      - name: closest
        type: single
        label: {zh-TW: "哪個品牌最像${brand_loop}？", en: "Which brand is most like ${brand_loop}?"}
        choices: brands
        choice_filter: selected(aware, .) and . != item()
"""


def with_closest(choice_filter: str) -> str:
    block = CLOSEST.replace("selected(aware, .) and . != item()", choice_filter)
    return LOOPS.replace("  - name: members\n", block + "  - name: members\n")


def test_carried_forward_choices_inside_a_loop_leave_out_the_current_item() -> None:
    from survey_tui.core.interview.engine import InterviewEngine

    engine = InterviewEngine(load(with_closest("selected(aware, .) and . != item()")), language="en")
    engine.start()
    for answer in ([1, 2, 3], 0, 1):  # aware, hh, fam_1; why_1 is skipped (fam = 1)
        assert engine.submit(answer).accepted, engine.current
    assert engine.current is not None and engine.current.name == "closest_1"
    # closest_1 comes after fam_1; only brands heard of, and never brand 1 itself
    view = engine.view()
    assert view is not None and [c.code for c in view.choices] == [2, 3]
    assert view.label == "Which brand is most like 50 Lan?"
    refused = engine.submit(1)
    assert not refused.accepted and refused.rejection is not None and "earlier answer" in refused.rejection.message
    assert engine.submit(3).accepted


def test_check_validates_a_choice_filter_in_a_loop() -> None:
    found = problems_of(with_closest("selected(aware, .) and . != fam_3"))
    later = [p for p in found if "[closest]" in p and "choice_filter" in p and "'fam_3', which is asked later" in p]
    assert later and all("in loop 'brand_loop'" in p for p in later), found
    found = problems_of(with_closest("selected(awre, .)"))
    assert any("[closest]" in p and "unknown name 'awre'" in p for p in found), found


def test_loop_functions_mean_the_same_in_interviews_and_in_polars() -> None:
    """item(), iteration() and indexed() over a frame stacked by item, row by row against the Python evaluator."""
    import random

    import polars as pl

    from survey_tui.core.instrument.expressions import WideFrameResolver, parse_expression

    rng = random.Random(16)
    rows = 300
    frame = pl.DataFrame(
        {
            "brand_loop": [rng.choice([1, 2, 3, None]) for _ in range(rows)],
            "fam": [rng.choice([1, 2, 3, None]) for _ in range(rows)],
            "fam_1": [rng.choice([1, 2, 3, None]) for _ in range(rows)],
            "fam_2": [rng.choice([1, 2, 3, None]) for _ in range(rows)],
        },
        schema={"brand_loop": pl.Int64, "fam": pl.Int64, "fam_1": pl.Int64, "fam_2": pl.Int64},
    )
    resolver = WideFrameResolver(schema=dict(frame.schema), loop_column="brand_loop")
    texts = [
        "item() = 2",
        "item() in (1, 3) and fam >= 2",
        "indexed(fam, 2) >= 2",
        "indexed(fam, 1) > fam or item() = null",
        "indexed(fam, 1.5) = null",
        "iteration() = null",
        "coalesce(indexed(fam, 2), item(), 0) > 1",
    ]
    scopes = [resolver.scope_for_row(row) for row in frame.iter_rows(named=True)]
    outcomes = 0
    for text in texts:
        expr = parse_expression(text)
        got = frame.with_columns(expr.to_polars_bool(resolver).alias("v"))["v"].to_list()  # broadcast literals
        assert got == [expr.evaluate_bool(scope) for scope in scopes], text
        outcomes += len(set(got)) == 2
    assert outcomes >= len(texts) - 2  # all but the always-missing ones split the rows
    # bound for one iteration, the same expression names that iteration's variable
    bound = parse_expression("fam >= 2 and item() = 2").bind({"fam": "fam_2"}, item=2, iteration=2)
    assert bound.names == {"fam_2"}
    assert bound.evaluate_bool(scopes[0]) == (scopes[0].value("fam_2") is not None and scopes[0].value("fam_2") >= 2)


def test_a_misspelt_loop_key_is_located_without_knock_on_errors() -> None:
    found = problems_of(LOOPS.replace("      over: aware\n", "      ovr: aware\n"))
    assert any("ovr" in p for p in found), found
    assert not any("unknown name 'brand_loop'" in p for p in found), found


def test_loops_that_would_make_too_many_questions_are_refused_at_the_loop() -> None:
    """A few lines of loops can make hundreds of thousands of questions (200 iterations each): refused, located
    at the loop that crosses the limit, before any iteration is made."""
    from benchmarks.synthetic_instrument import make_loop_instrument_yaml
    from survey_tui.core.instrument.model import MAX_QUESTIONS

    assert load(make_loop_instrument_yaml(90, 97)).questions  # 8,731 questions: within the limit
    text = make_loop_instrument_yaml(110, 97)  # 97 iterations of 110 questions: 10,670
    found = problems_of(text)
    loop = [p for p in found if "[loop store_loop]" in p]
    assert len(loop) == 1, found
    assert f"makes 10,670 questions (97 iterations of 110), more than the {MAX_QUESTIONS:,}" in loop[0]
    line = int(loop[0].split(":")[1])
    assert text.splitlines()[line - 1].strip() == "loop:"
