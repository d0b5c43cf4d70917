"""A preview can start at the question being edited: the questions before it get a quick path of answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.interview.preview import PreviewSession
from tests.conftest import load_small

DEMO = Path(__file__).resolve().parents[2] / "instruments" / "bubble_tea_brand_health.yaml"


def demo_instrument():  # type: ignore[no-untyped-def]
    instrument, problems = load_instrument_text(DEMO.read_text(encoding="utf-8"), DEMO.name)
    assert instrument is not None, problems
    return instrument


@pytest.mark.parametrize("target", ["a4_bumo", "a5_why", "b5_nps", "d5_last_purchase"])
def test_quick_path_reaches_a_later_question_through_the_real_logic(target: str) -> None:
    instrument = demo_instrument()
    session = PreviewSession.open(instrument, "en", start_at=target)
    engine = session.engine
    assert session.stopped_at is None
    assert engine.current is not None and engine.current.name == target
    assert not engine.finished  # no screen-out on the way
    assert len(engine.path) >= 5  # the earlier questions were really answered, in order
    assert all(instrument.position(n) < instrument.position(target) for n in engine.path)
    previous = engine.path[-1]
    assert engine.back() and engine.current.name == previous  # the quick answers can be changed


def test_the_small_instrument_screener_is_passed_not_failed() -> None:
    session = PreviewSession.open(load_small(), "en", start_at="visit")
    engine = session.engine
    assert engine.current is not None and engine.current.name == "visit"
    age = engine.answers["age"].value
    assert isinstance(age, int) and age >= 15  # 'age < 15' would have screened the preview out


def test_an_answer_that_skips_the_target_is_taken_back_and_the_next_tried() -> None:
    from tests.conftest import SMALL

    routed = load_small(SMALL.replace("relevant: drinks = 1", "relevant: drinks = 2"))
    session = PreviewSession.open(routed, "en", start_at="aware")
    assert session.stopped_at is None and session.engine.current.name == "aware"  # type: ignore[union-attr]
    assert session.engine.answers["drinks"].value == 2  # 1 skipped the brands section: it was taken back
    never = load_small(SMALL.replace("relevant: drinks = 1", "relevant: drinks = 3"))
    stopped = PreviewSession.open(never, "en", start_at="aware")
    assert stopped.stopped_at == "drinks"  # no answer leads there: the preview says where it stopped
