"""The interview engine: routing, skip logic, validation, special codes, calculations, piping, going back."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_tui.core.instrument.model import Instrument
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder, state_from_store
from survey_tui.core.store.sqlite import Store


def walk(engine: InterviewEngine, answers: dict) -> list[str]:
    """Answer by name until the engine stops asking; returns the questions asked in order."""
    asked = []
    while engine.current is not None and not engine.finished:
        name = engine.current.name
        asked.append(name)
        result = engine.submit(answers.get(name))
        assert result.accepted, (name, result.rejection)
    return asked


FULL = {
    "age": 30,
    "drinks": 1,
    "aware": [1, 2],
    "favourite": 2,
    "why": "好喝",
    "sat": {"taste": 3, "price": 2},
    "spend": 60,
    "visit": "2026-10-01",
    "thanks": None,
}


def test_full_path_asks_every_relevant_question_in_order(small: Instrument) -> None:
    engine = InterviewEngine(small)
    asked = walk(engine, FULL)
    assert asked == ["age", "drinks", "aware", "favourite", "why", "sat", "spend", "visit", "thanks"]
    assert engine.at_end
    assert engine.answers["weekly"].value == 180  # calculate: spend * 3


def test_section_relevance_skips_the_whole_block(small: Instrument) -> None:
    engine = InterviewEngine(small)
    asked = walk(engine, {**FULL, "drinks": 2})
    assert asked == ["age", "drinks", "spend", "visit", "thanks"]


def test_question_relevance_uses_multi_selection(small: Instrument) -> None:
    engine = InterviewEngine(small)
    asked = walk(engine, {**FULL, "aware": [97]})
    assert "favourite" not in asked and "why" in asked


def test_terminate_rule_ends_as_screened_out(small: Instrument) -> None:
    engine = InterviewEngine(small)
    result = engine.submit("14")
    assert result.accepted and result.finished and result.outcome == "screened_out"
    assert engine.current is None and engine.outcome == "screened_out"


@pytest.mark.parametrize(
    ("question", "raw", "fragment"),
    [
        ("age", "abc", "not a number"),
        ("age", "12.5", "whole number"),
        ("age", "121", "largest"),
        ("drinks", "3", "not one of the codes"),
        ("drinks", "", "required"),
    ],
)
def test_invalid_answers_are_rejected_with_a_message(small: Instrument, question: str, raw: str, fragment: str) -> None:
    engine = InterviewEngine(small, language="en")
    if question == "drinks":
        engine.submit(30)
    result = engine.submit(raw)
    assert not result.accepted
    assert fragment in result.rejection.message
    assert question not in engine.answers and engine.current.name == question


def test_messages_follow_the_interview_language(small: Instrument) -> None:
    engine = InterviewEngine(small, language="zh-TW")
    assert "數字" in engine.submit("abc").rejection.message


def test_full_width_digits_from_an_input_method_are_accepted(small: Instrument) -> None:
    engine = InterviewEngine(small)
    assert engine.submit("３０").accepted
    assert engine.answers["age"].value == 30


def test_constraint_with_self_and_localised_message(small: Instrument) -> None:
    engine = InterviewEngine(small, language="zh-TW")
    for raw in (30, 1, [1, 2]):
        engine.submit(raw)
    bad = engine.submit(3)  # not among the brands known
    assert not bad.accepted and bad.rejection.message == "必須是聽過的品牌"
    assert engine.submit(2).accepted


def test_exclusive_choice_cannot_be_combined(small: Instrument) -> None:
    engine = InterviewEngine(small, language="en")
    engine.submit(30)
    engine.submit(1)
    result = engine.submit([1, 97])
    assert not result.accepted and "cannot be combined" in result.rejection.message


def test_grid_requires_every_row_and_names_the_missing_one(small: Instrument) -> None:
    engine = InterviewEngine(small, language="en")
    walk_to(engine, "sat")
    result = engine.submit({"taste": 3})
    assert not result.accepted and result.rejection.field == "price"
    assert engine.submit({"taste": 3, "price": "2"}).accepted
    assert engine.scope.value("sat_price") == 2


def walk_to(engine: InterviewEngine, target: str) -> None:
    while engine.current.name != target:
        assert engine.submit(FULL[engine.current.name]).accepted


def test_special_codes_are_accepted_and_read_as_missing(small: Instrument) -> None:
    engine = InterviewEngine(small)
    assert engine.submit_special("refused").accepted
    assert engine.answers["age"].special == "refused"
    assert engine.scope.value("age") is None and engine.scope.special("age") == "refused"
    assert engine.current.name == "drinks"  # refused age does not trigger 'age < 15'


def test_special_codes_can_be_switched_off_per_question() -> None:
    from tests.conftest import SMALL, load_small

    instrument = load_small(
        SMALL.replace("        choices: yes_no\n", "        choices: yes_no\n        special_codes: false\n", 1)
    )
    engine = InterviewEngine(instrument, language="en")
    engine.submit(30)
    result = engine.submit_special("dont_know")
    assert not result.accepted and "not available" in result.rejection.message


def test_piping_inserts_earlier_answers_in_the_chosen_language(small: Instrument) -> None:
    engine = InterviewEngine(small, language="zh-TW")
    walk_to(engine, "why")
    assert engine.view().label == "為什麼最常買乙牌？"
    engine.set_language("en")
    assert engine.view().label == "Why Brand B most?"


def test_back_keeps_answers_and_a_change_clears_what_became_irrelevant(small: Instrument) -> None:
    engine = InterviewEngine(small)
    walk_to(engine, "spend")
    assert {"aware", "favourite", "why", "sat"} <= set(engine.answers)
    while engine.current.name != "drinks":
        assert engine.back()
    assert engine.view().answer.value == 1  # the earlier answer is still there
    engine.submit(2)  # no longer drinks bubble tea: the brands section is off the path
    assert not {"aware", "favourite", "why", "sat"} & set(engine.answers)
    assert engine.current.name == "spend"


def test_going_back_and_forward_without_change_keeps_everything(small: Instrument) -> None:
    engine = InterviewEngine(small)
    walk_to(engine, "spend")
    before = dict(engine.answers)
    engine.back()
    engine.back()
    engine.submit(engine.view().answer.value)
    engine.submit(engine.view().answer.value)
    assert engine.answers == before and engine.current.name == "spend"


def test_progress_counts_the_current_path(small: Instrument) -> None:
    engine = InterviewEngine(small)
    assert engine.progress().answered == 0
    walk_to(engine, "aware")
    progress = engine.progress()
    assert progress.answered == 2 and progress.total == 8  # 'favourite' is not on the path yet
    engine.submit([1, 2])
    assert engine.progress().total == 9 and engine.progress().answered == 3


def test_randomised_choices_are_stable_per_interview_and_keep_fixed_ones() -> None:
    from tests.conftest import SMALL, load_small

    instrument = load_small(
        SMALL.replace("        choices: brands\n", "        choices: brands\n        randomize: true\n", 1)
    )
    orders = set()
    for seed in range(30):
        engine = InterviewEngine(instrument, seed=f"s{seed}")
        order = [c.code for c in engine.ordered_choices(instrument.question("aware"))]
        assert order[-1] == 97  # fixed "none of these" stays last
        assert order == [
            c.code for c in InterviewEngine(instrument, seed=f"s{seed}").ordered_choices(instrument.question("aware"))
        ]
        orders.add(tuple(order))
    assert len(orders) > 1


def test_every_step_is_stored_and_a_resumed_interview_continues_where_it_stopped(
    small: Instrument, tmp_path: Path
) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("small", "source text")
    row = store.start_interview(version.id, interviewer="王小明")
    engine = InterviewEngine(small, StoreRecorder(store, row.id))
    engine.start()
    walk_to(engine, "favourite")
    stored = store.answers(row.id)
    assert stored["age"].value == 30 and stored["aware"].value == [1, 2]
    store.close()

    store = Store(tmp_path / "survey.db")
    resumed = InterviewEngine(small, StoreRecorder(store, row.id), state=state_from_store(store, row.id))
    assert resumed.current.name == "favourite"
    assert resumed.back() and resumed.current.name == "aware"
    assert resumed.view().answer.value == [1, 2]


def test_clearing_and_changes_are_audited(small: Instrument, tmp_path: Path) -> None:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("small", "x")
    row = store.start_interview(version.id)
    engine = InterviewEngine(small, StoreRecorder(store, row.id, actor="tester"))
    walk_to(engine, "spend")
    while engine.current.name != "drinks":
        engine.back()
    engine.submit(2)
    actions = [(r["question"], r["action"]) for r in store.audit(row.id)]
    assert ("drinks", "changed") in actions
    assert ("aware", "cleared_irrelevant") in actions and ("sat", "cleared_irrelevant") in actions
    assert "aware" not in store.answers(row.id)
