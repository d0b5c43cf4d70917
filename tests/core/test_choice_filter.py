"""choice_filter (as in XLSForm): a choice list carries forward only the codes an earlier answer allows."""

from __future__ import annotations

import textwrap

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.interview.engine import InterviewEngine
from tests.conftest import SMALL, load_small

FILTERED = SMALL.replace(
    """        relevant: count_selected(aware) >= 1 and not selected(aware, 97)
        constraint: selected(aware, .)""",
    """        relevant: count_selected(aware) >= 1 and not selected(aware, 97)
        choice_filter: selected(aware, .)""",
)


def engine_at_favourite(aware: list[int]) -> InterviewEngine:
    engine = InterviewEngine(load_small(FILTERED), language="en")
    engine.start()
    for answer in ("30", 1, aware):
        assert engine.submit(answer).accepted
    assert engine.current is not None and engine.current.name == "favourite"
    return engine


def test_only_the_codes_an_earlier_answer_allows_are_offered() -> None:
    engine = engine_at_favourite([1, 3])
    view = engine.view()
    assert view is not None
    assert [c.code for c in view.choices] == [1, 3]  # brand B (2) and "none" (97) were not heard of


def test_a_ruled_out_code_is_refused_with_a_message_and_an_allowed_one_taken() -> None:
    engine = engine_at_favourite([1, 3])
    result = engine.submit(2)
    assert not result.accepted and result.rejection is not None
    assert "2" in result.rejection.message and "earlier answer" in result.rejection.message
    assert engine.submit(3).accepted
    assert engine.answers["favourite"].value == 3


def test_going_back_and_changing_the_earlier_answer_changes_the_list() -> None:
    engine = engine_at_favourite([1])
    assert [c.code for c in engine.view().choices] == [1]  # type: ignore[union-attr]
    assert engine.back()
    assert engine.submit([1, 2]).accepted
    assert [c.code for c in engine.view().choices] == [1, 2]  # type: ignore[union-attr]


def test_choice_filter_on_a_question_without_choices_is_a_located_problem() -> None:
    text = textwrap.dedent(SMALL).replace(
        "        max: 120\n", "        max: 120\n        choice_filter: selected(drinks, .)\n", 1
    )
    instrument, problems = load_instrument_text(text, "small.yaml")
    messages = [str(p) for p in problems]
    assert any("choice_filter only applies" in m and "age" in m for m in messages), messages
    bad = textwrap.dedent(FILTERED).replace("selected(aware, .)", "selected(nosuch, .)")
    _, problems = load_instrument_text(bad, "small.yaml")
    assert any("nosuch" in str(p) for p in problems)
