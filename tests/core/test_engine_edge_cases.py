"""Engine edge cases found in review: failed steps, resuming at the end, terminate timing, stale calculations."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.instrument.model import Instrument
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder, state_from_store
from survey_tui.core.store.sqlite import Store

CHAIN = """
id: chain
languages: [en]
terminate:
  - when: not selected(q2, 1)
    message: {en: "Sorry, you are not eligible"}
sections:
  - name: main
    questions:
      - {name: intro, type: note, label: Welcome}
      - {name: q1, type: single, label: Q1, choices: [{code: 1, label: A}, {code: 2, label: B}]}
      - {name: q2, type: multi, label: Q2, choices: [{code: 1, label: X}, {code: 2, label: Y}]}
      - {name: q3, type: numeric, label: Q3, relevant: q1 = 1, max: 100}
      - {name: c, type: calculate, calculate: "if(answered(q3), q3 * 2, -1)"}
      - {name: bye, type: note, label: "Bye {c}"}
"""


def load(text: str = CHAIN) -> Instrument:
    instrument, problems = load_instrument_text(textwrap.dedent(text), "chain.yaml")
    assert instrument is not None, problems
    return instrument


def stored_engine(tmp_path: Path, instrument: Instrument) -> tuple[Store, int, InterviewEngine]:
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument(instrument.id, "x")
    row = store.start_interview(version.id)
    return store, row.id, InterviewEngine(instrument, StoreRecorder(store, row.id))


def test_a_terminate_rule_waits_until_its_question_is_reached() -> None:
    engine = InterviewEngine(load())
    engine.submit(None)  # intro
    result = engine.submit(1)  # q1: q2 not asked yet, so 'not selected(q2, 1)' must not fire
    assert result.accepted and not result.finished and engine.current.name == "q2"
    result = engine.submit([2])
    assert result.finished and result.outcome == "screened_out"
    assert result.message == "Sorry, you are not eligible"


def test_a_failed_step_leaves_memory_and_store_as_they_were(tmp_path: Path) -> None:
    instrument = load()
    store, interview_id, engine = stored_engine(tmp_path, instrument)
    engine.submit(None)
    calls = {"n": 0}

    def flaky(scope: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk full")
        return None

    engine.stop_check = flaky
    with pytest.raises(RuntimeError):
        engine.submit(1)
    assert "q1" not in engine.answers and engine.current.name == "q1"
    assert "q1" not in store.answers(interview_id)
    assert engine.submit(1).accepted  # the retry really saves
    assert store.answers(interview_id)["q1"].value == 1


def test_calculations_never_keep_values_from_answers_a_change_cleared(tmp_path: Path) -> None:
    instrument = load()
    store, interview_id, engine = stored_engine(tmp_path, instrument)
    for raw in (None, 1, [1], 5):
        assert engine.submit(raw).accepted
    assert engine.answers["c"].value == 10
    while engine.current.name != "q1":
        engine.back()
    engine.submit(2)  # q3 leaves the path; c must follow
    assert "q3" not in engine.answers and engine.answers["c"].value == -1
    assert store.answers(interview_id)["c"].value == -1


def test_an_interview_that_reached_its_end_resumes_at_its_end(tmp_path: Path) -> None:
    instrument = load()
    store, interview_id, engine = stored_engine(tmp_path, instrument)
    for raw in (None, 1, [1], 5, None):
        assert engine.submit(raw).accepted
    assert engine.at_end
    resumed = InterviewEngine(
        instrument, StoreRecorder(store, interview_id), state=state_from_store(store, interview_id)
    )
    assert resumed.current is None and resumed.at_end
    assert resumed.back() and resumed.current.name == "bye"


def test_a_stored_position_that_left_the_path_moves_to_the_next_relevant_question(tmp_path: Path) -> None:
    instrument = load()
    store, interview_id, engine = stored_engine(tmp_path, instrument)
    for raw in (None, 2, [1]):
        engine.submit(raw)
    store.set_position(interview_id, "q3", ["intro", "q1", "q2"])  # q3 is not relevant when q1 = 2
    resumed = InterviewEngine(
        instrument, StoreRecorder(store, interview_id), state=state_from_store(store, interview_id)
    )
    assert resumed.current.name == "bye"


def test_going_back_after_a_screen_out_reopens_the_interview(tmp_path: Path) -> None:
    instrument = load()
    store, interview_id, engine = stored_engine(tmp_path, instrument)
    for raw in (None, 1, [2]):
        engine.submit(raw)
    assert store.interview(interview_id).outcome == "screened_out"
    assert engine.back()
    assert not engine.finished and engine.current.name == "q2"
    row = store.interview(interview_id)
    assert row.status == "in_progress" and row.outcome is None and row.ended_at is None
    assert engine.submit([1]).accepted and engine.current.name == "q3"


def test_piping_a_grid_row_and_decimals() -> None:
    instrument = load("""
    id: pipes
    languages: [en]
    sections:
      - name: main
        questions:
          - name: g
            type: grid
            label: Rate
            items: [{name: taste, label: Taste}]
            choices: [{code: 1, label: Bad}, {code: 2, label: Good}]
          - {name: price, type: numeric, label: Price, decimals: 2}
          - {name: show, type: note, label: "Taste was {g_taste}; price {price}"}
    """)
    engine = InterviewEngine(instrument)
    engine.submit({"taste": 2})
    engine.submit("12345.67")
    assert engine.view().label == "Taste was Good; price 12345.67"


@pytest.mark.parametrize(
    ("raw", "accepted", "stored"),
    [
        ("1,200", True, 1200),
        ("1,5", False, None),
        (",5", False, None),
        ("1" * 400, False, None),
        ("12345678901234567891", False, None),
        (float("nan"), False, None),
        (float("inf"), False, None),
        ("-0", True, 0),
        ("１，２００", True, 1200),
    ],
)
def test_numeric_input_edge_cases(raw: object, accepted: bool, stored: object) -> None:
    instrument = load("""
    id: n
    languages: [en]
    sections:
      - name: main
        questions:
          - {name: n, type: numeric, label: N}
          - {name: end, type: note, label: End}
    """)
    engine = InterviewEngine(instrument, language="en")
    result = engine.submit(raw)
    assert result.accepted is accepted, result.rejection
    assert (engine.answers["n"].value if accepted else "n" not in engine.answers) == (stored if accepted else True)


def test_text_from_windows_keeps_its_line_breaks() -> None:
    instrument = load("""
    id: t
    languages: [en]
    sections:
      - name: main
        questions:
          - {name: t, type: text, label: T}
    """)
    engine = InterviewEngine(instrument)
    assert engine.submit("line one\r\nline two").accepted
    assert engine.answers["t"].value == "line one\nline two"
