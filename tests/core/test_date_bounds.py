"""Date questions get plausible default bounds (1900 onward; a birth date not in the future) that an
instrument can override."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from survey_tui.core.interview.validation import Invalid, parse_answer
from tests.conftest import load_small

INSTRUMENT = """
id: dates
title: {en: Dates}
languages: [en]
sections:
  - name: s
    questions:
      - {name: dob, type: date, label: {en: Date of birth}}
      - {name: visit, type: date, label: {en: Next visit}}
      - {name: old, type: date, label: {en: Year founded}, min_date: "1800-01-01", max_date: today}
"""


def _question(name: str):  # type: ignore[no-untyped-def]
    instrument = load_small(INSTRUMENT)
    return next(q for s in instrument.sections for q in s.questions if q.name == name)


def test_a_birth_date_in_1850_or_in_the_future_is_refused() -> None:
    dob = _question("dob")
    assert parse_answer(dob, "1980-05-01", "en") == "1980-05-01"
    with pytest.raises(Invalid, match="1900-01-01"):
        parse_answer(dob, "1850-01-01", "en")
    with pytest.raises(Invalid, match=date.today().isoformat()):
        parse_answer(dob, (date.today() + timedelta(days=1)).isoformat(), "en")


def test_other_dates_may_lie_ahead_and_bounds_can_be_overridden() -> None:
    next_year = (date.today() + timedelta(days=365)).isoformat()
    assert parse_answer(_question("visit"), next_year, "en") == next_year
    with pytest.raises(Invalid):
        parse_answer(_question("visit"), "1899-12-31", "en")
    old = _question("old")
    assert parse_answer(old, "1850-01-01", "en") == "1850-01-01"
    with pytest.raises(Invalid):
        parse_answer(old, next_year, "en")


def test_a_bound_that_is_not_a_date_is_a_located_problem() -> None:
    from survey_tui.core.instrument.loader import load_instrument_text

    instrument, problems = load_instrument_text(INSTRUMENT.replace('"1800-01-01"', '"soon"'), "dates.yaml")
    assert instrument is None
    assert any("soon" in p.message and p.line for p in problems), problems
