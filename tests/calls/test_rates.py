"""AAPOR rates on a fixture with every disposition, against values worked by hand from the formulas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from survey_tui.core.fieldwork import dispositions, rates
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallQueue
from survey_tui.core.store.sqlite import Store

# Final outcome of each case (a list: the calls in order; "interview:..." is an interview's end with the share
# of its questions answered). Several cases carry earlier calls to exercise AAPOR precedence.
CASES: dict[str, list[str]] = {
    # I = 6 (1.1): two of them reached only after non-contacts, one after a refusal (conversion)
    **{f"complete{i}": ["interview:complete:1.0"] for i in range(4)},
    "complete_after_na": ["no_answer", "busy", "interview:complete:1.0"],
    "converted": ["refusal", "interview:complete:1.0"],
    # P = 2 (1.2): break-offs after >= 50% of the questions
    "partial0": ["interview:break_off:0.6"],
    "partial1": ["no_answer", "interview:break_off:0.5"],
    # R = 4 (2.11 x3, 2.12 x1): a refusal is not undone by a later non-contact
    "refusal0": ["refusal"],
    "refusal1": ["no_answer", "refusal"],
    "refusal_then_na": ["refusal", "no_answer", "answering_machine"],
    "breakoff": ["interview:break_off:0.2"],
    # NC = 2 (2.21)
    "callback0": ["callback"],
    "callback1": ["no_answer", "callback", "no_answer"],
    # O = 2 (2.33, 2.32)
    "language": ["language"],
    "unable": ["unable"],
    # UH = 8 (3.13 x3, 3.12 x1, 3.14 x2, 3.11 never called x2)
    "na0": ["no_answer"],
    "na1": ["no_answer", "no_answer"],
    "na2": ["busy", "no_answer"],
    "busy": ["busy"],
    "machine0": ["answering_machine"],
    "machine1": ["no_answer", "answering_machine"],
    "never0": [],
    "never1": [],
    # UO = 2 (3.21)
    "noscreener0": ["no_screener"],
    "noscreener1": ["busy", "no_screener"],
    # NE = 7 (4.30 x2, 4.20, 4.51, 4.70 x2, 4.80)
    "nis0": ["not_in_service"],
    "nis1": ["no_answer", "not_in_service"],
    "fax": ["fax_modem"],
    "business": ["business"],
    "screened0": ["screened_out"],
    "screened1": ["interview:screened_out:0.1"],
    "quota": ["quota_full"],
}


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "survey.db") as s:
        yield s


def _fill(store: Store) -> dict[str, str]:
    clock = [datetime(2026, 10, 6, 2, 0, tzinfo=UTC)]
    queue = CallQueue(store, clock=lambda: clock[0])
    ids = {}
    for index, (name, calls) in enumerate(CASES.items()):
        rid = resp.add(
            store, {"gender": 1 + index % 2, "age": 20 + index}, interviewer="bob" if name == "never1" else "amy"
        )
        ids[name] = rid
        for call in calls:
            clock[0] += timedelta(minutes=5)
            if call.startswith("interview:"):
                _, outcome, share = call.split(":")
                resp.record_outcome(
                    store, rid, outcome, interviewer="amy", at=clock[0].isoformat(), answered_share=float(share)
                )
            else:
                queue.record_call(rid, call, interviewer="amy")
    return ids


def test_every_disposition_group_is_counted(store: Store) -> None:
    ids = _fill(store)
    table = rates.overall(store)
    assert table.counts == {"I": 6, "P": 2, "R": 4, "NC": 2, "O": 2, "UH": 8, "UO": 2, "NE": 7}
    # one final disposition per case, by AAPOR precedence rather than the last call
    finals = {r[0]: r[1] for r in store.query("SELECT id, disposition FROM respondents")}
    assert finals[ids["converted"]] == "1.1"
    assert finals[ids["refusal_then_na"]] == "2.11"
    assert finals[ids["breakoff"]] == "2.12"
    assert finals[ids["partial1"]] == "1.2"
    assert finals[ids["callback1"]] == "2.21"
    assert finals[ids["na2"]] == "3.13"  # UH tie: the later call wins
    assert finals[ids["never0"]] is None  # counted as 3.11, not attempted
    assert finals[ids["nis1"]] == "4.30"
    # and the interim history is kept
    assert [h[2] for h in dispositions.history(store, ids["refusal_then_na"])] == [
        "refusal",
        "no_answer",
        "answering_machine",
    ]


def test_rates_match_the_hand_worked_values(store: Store) -> None:
    _fill(store)
    table = rates.overall(store)
    # I=6 P=2 R=4 NC=2 O=2 UH=8 UO=2 NE=7.  I+P = 8, R+NC+O = 8, UH+UO = 10.
    # e (proportional allocation) = (I+P+R+NC+O) / (I+P+R+NC+O+NE) = 16 / (16+7) = 16/23
    e = Fraction(16, 23)
    assert table.e == pytest.approx(float(e))
    # with e: (I+P) + (R+NC+O) + e(UH+UO) = 16 + 160/23 = 528/23
    with_e = 16 + e * 10
    assert with_e == Fraction(528, 23)
    expected = {
        "RR1": (6, 26),  # I / (8 + 8 + 10)
        "RR2": (8, 26),  # (I+P) / 26
        "RR3": (6, with_e),  # 6 / (528/23) = 0.26136
        "RR4": (8, with_e),  # 8 / (528/23) = 0.34848
        "RR5": (6, 16),  # I / ((I+P) + (R+NC+O))
        "RR6": (8, 16),
        "COOP1": (6, 14),  # I / ((I+P) + R + O) = 6 / (8+4+2)
        "COOP2": (8, 14),
        "COOP3": (6, 12),  # I / ((I+P) + R) = 6 / (8+4)
        "COOP4": (8, 12),
        "REF1": (4, 26),  # R / 26
        "REF2": (4, with_e),  # 4 / (528/23) = 0.17424
        "REF3": (4, 16),
        "CON1": (14, 26),  # ((I+P)+R+O) / ((I+P)+R+O+NC+(UH+UO)) = 14 / (14+2+10)
        "CON2": (14, with_e),  # 14 / (14 + 2 + 160/23) = 14 / (528/23) = 0.60985
        "CON3": (14, 16),  # 14 / (14+2)
    }
    assert set(expected) == set(rates.RATE_NAMES)
    for name, (num, den) in expected.items():
        rate = table.rates[name]
        assert rate.numerator == pytest.approx(float(num)), name
        assert rate.denominator == pytest.approx(float(den)), name
        assert rate.value == pytest.approx(float(Fraction(num) / Fraction(den))), name
    assert table.rates["RR3"].value == pytest.approx(0.261364, abs=1e-6)
    assert table.rates["CON2"].value == pytest.approx(0.609848, abs=1e-6)


def test_a_configured_e_and_partial_threshold(store: Store) -> None:
    _fill(store)
    settings = dispositions.CallSettings(eligibility_estimate=0.5)
    table = rates.overall(store, settings)
    # RR3 = I / (16 + 0.5 * 10) = 6 / 21
    assert table.rates["RR3"].value == pytest.approx(6 / 21)
    assert "given in study.yaml" in table.e_method
    # a higher threshold makes the 0.6 and 0.5 break-offs break-offs, not partials
    strict = dispositions.CallSettings(partial_threshold=0.9)
    rid = resp.add(store, {})
    resp.record_outcome(store, rid, "break_off", answered_share=0.6, settings=strict)
    assert store.query("SELECT disposition FROM respondents WHERE id = ?", (rid,))[0][0] == "2.12"
    lenient = dispositions.CallSettings(partial_threshold=0.3)
    other = resp.add(store, {})
    resp.record_outcome(store, other, "break_off", answered_share=0.4, settings=lenient)
    assert store.query("SELECT disposition FROM respondents WHERE id = ?", (other,))[0][0] == "1.2"


def test_rates_by_interviewer_day_and_quota_cell(store: Store) -> None:
    from tests.respondents.test_respondents import GENDER_AGE

    _fill(store)
    by_who = {t.label: t for t in rates.by(store, "interviewer")}
    assert set(by_who) == {"amy", "bob"}  # bob's never-called cases count under bob (assigned)
    assert sum(t.cases for t in by_who.values()) == len(CASES)
    assert by_who["bob"].counts == {"I": 0, "P": 0, "R": 0, "NC": 0, "O": 0, "UH": 1, "UO": 0, "NE": 0}
    by_day = rates.by(store, "day")
    assert {t.label for t in by_day} == {"2026-10-06", "(not called)"}
    cells = {t.label: t for t in rates.by(store, "quota", quotas=[GENDER_AGE])}
    # age = 20 + index: the first 10 cases are young, the rest old; gender alternates
    assert cells["gender_age: M × young"].cases == 5
    assert cells["gender_age: F × young"].cases == 5
    assert sum(t.cases for t in cells.values()) == len(CASES)


def test_recompute_rebuilds_the_dispositions_from_the_calls(store: Store) -> None:
    ids = _fill(store)
    interviewed = {n for n, calls in CASES.items() if any(c.startswith("interview:") for c in calls)}
    before = {r[0]: r[1] for r in store.query("SELECT id, disposition FROM respondents")}
    dispositions.recompute(store, dispositions.CallSettings())
    after = {r[0]: r[1] for r in store.query("SELECT id, disposition FROM respondents")}
    for name, rid in ids.items():
        if name not in interviewed:  # these interviews have no `interviews` row, so only calls are replayed
            assert after[rid] == before[rid], name
    # a changed mapping takes effect on recompute (busy as 3.16, technical phone problems), while the history
    # keeps the code each call was recorded with
    custom = dispositions.CallSettings(outcomes={"busy": dispositions.Outcome(aapor="3.16", key="b")})
    dispositions.recompute(store, custom)
    assert store.query("SELECT disposition FROM respondents WHERE id = ?", (ids["busy"],))[0][0] == "3.16"
    assert {r[0] for r in store.query("SELECT aapor FROM contact_attempts WHERE outcome = 'busy'")} == {"3.12"}
