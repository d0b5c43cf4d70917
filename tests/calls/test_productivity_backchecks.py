"""Productivity per interviewer and day (checked by hand), its CSV/xlsx files, and reproducible back-checks."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from survey_tui.core.fieldwork import backchecks, productivity
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallQueue
from survey_tui.core.store.sqlite import Store

T0 = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Taipei


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "survey.db") as s:
        yield s


def _complete(store: Store, version: int, who: str, start: datetime, minutes: float) -> int:
    row = store.start_interview(version, "field", who, None, started_at=start.isoformat())
    store.finish_interview(row.id, "completed", "complete", ended_at=(start + timedelta(minutes=minutes)).isoformat())
    return row.id


def test_productivity_per_interviewer_and_day(store: Store, tmp_path: Path) -> None:
    clock = [T0]
    queue = CallQueue(store, clock=lambda: clock[0])
    cases = [resp.add(store, {}) for _ in range(4)]
    # amy: 3 calls on Tuesday, each handed out by the queue and ended 6 minutes later
    for outcome in ("no_answer", "refusal", "callback"):
        case = queue.next_case("=amy")  # a name that looks like a formula, for the file checks below
        clock[0] += timedelta(minutes=6)
        queue.record_call(case.id, outcome, interviewer="=amy")
    # bob: one call late on Tuesday 23:30 UTC = Wednesday 07:30 in Taipei (a Wednesday call, untimed)
    resp.record_attempt(store, cases[3], "busy", interviewer="bob", at="2026-10-06T23:30:00+00:00")
    version = store.publish_instrument("q", "id: q").id
    # amy's completes on Tuesday: 20, 10 and 30 minutes; bob's one on Wednesday: 8 minutes (speeding)
    for minutes in (20, 10, 30):
        _complete(store, version, "=amy", T0 + timedelta(hours=1), minutes)
    _complete(store, version, "bob", T0 + timedelta(days=1), 8)
    frame = productivity.productivity(store)
    rows = {(r["interviewer"], r["day"]): r for r in frame.iter_rows(named=True)}
    amy = rows[("=amy", "2026-10-06")]
    # calls 3; contacts: refusal and callback reached someone (2); refusals 1 (2.11)
    assert (amy["calls"], amy["contacts"], amy["refusals"], amy["completes"]) == (3, 2, 1, 3)
    # hours: 3 calls x 6 minutes = 0.3 h; completes per hour 3 / 0.3 = 10
    assert amy["hours"] == pytest.approx(0.3)
    assert amy["completes_per_hour"] == pytest.approx(10.0)
    # median of 20, 10, 30 minutes = 20; overall median of 8, 10, 20, 30 = 15, speeding below 7.5 min: none
    assert amy["median_minutes"] == pytest.approx(20.0)
    assert amy["speeding"] == 0
    bob = rows[("bob", "2026-10-07")]
    # bob's call is untimed, so hours fall back to interview time: 8 minutes = 0.13 h
    assert (bob["calls"], bob["contacts"], bob["completes"]) == (1, 0, 1)
    assert bob["hours"] == pytest.approx(round(8 / 60, 2))
    assert bob["speeding"] == 0  # 8 min is not below 0.5 x 15 = 7.5 min
    _complete(store, version, "bob", T0 + timedelta(days=1, hours=2), 3)  # 3 min < 0.5 x median(3,8,10,20,30)=5
    again = {(r["interviewer"], r["day"]): r for r in productivity.productivity(store).iter_rows(named=True)}
    assert again[("bob", "2026-10-07")]["speeding"] == 1
    # files: CSV keeps the formula-like name as text, xlsx reads back with the same numbers
    out = productivity.write(frame, tmp_path / "p.csv")
    with out.open(encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert read[0]["interviewer"] == "'=amy" and read[0]["calls"] == "3"
    import openpyxl

    book = productivity.write(frame, tmp_path / "p.xlsx")
    sheet = openpyxl.load_workbook(book).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == productivity.COLUMNS
    assert values[1][0] == "=amy" and sheet.cell(2, 1).data_type == "s"  # text, not a formula
    assert values[1][2] == 3 and values[1][6] == pytest.approx(0.3)


def test_backcheck_sample_is_reproducible_and_at_least_the_share(tmp_path: Path) -> None:
    def build(path: Path) -> Store:
        store = Store(path)
        version = store.publish_instrument("q", "id: q").id
        for who, n in (("amy", 25), ("bob", 9), ("cho", 1)):
            for k in range(n):
                _complete(store, version, who, T0 + timedelta(minutes=k), 20)
        return store

    with build(tmp_path / "a.db") as one, build(tmp_path / "b.db") as two:
        first = backchecks.draw(one, 0.10, seed=20261006)
        second = backchecks.draw(two, 0.10, seed=20261006)
        assert first.drawn == second.drawn  # same data and seed: same sample
        # ceil(10 % of 25) = 3, ceil(0.9) = 1, ceil(0.1) = 1
        assert {k: len(v) for k, v in first.drawn.items()} == {"amy": 3, "bob": 1, "cho": 1}
        assert backchecks.samples(one)[0][2] == 20261006  # the seed is stored
        other = backchecks.draw(two, 0.10, seed=7)
        assert other.drawn == {}  # every interviewer already has their share
        # after 10 more completes amy has 35: a 20 % sample is ceil(7) = 7, 3 of them drawn before -> 4 more
        version = one.latest_version("q").id
        for k in range(10):
            _complete(one, version, "amy", T0 + timedelta(hours=5, minutes=k), 20)
        extra = backchecks.draw(one, 0.2, seed=1)
        assert len(extra.drawn["amy"]) == 4 and not set(extra.drawn["amy"]) & set(first.drawn["amy"])
        # bob (9 completes): ceil(1.8) = 2, 1 drawn before -> 1 more; cho: ceil(0.2) = 1 already drawn
        assert len(extra.drawn["bob"]) == 1 and "cho" not in extra.drawn


def test_backcheck_results_flag_interviewers_above_the_threshold(store: Store) -> None:
    version = store.publish_instrument("q", "id: q").id
    for who in ("amy", "bob"):
        for k in range(10):
            _complete(store, version, who, T0 + timedelta(minutes=k), 20)
    sample = backchecks.draw(store, 0.5, seed=3)
    amy, bob = sample.drawn["amy"], sample.drawn["bob"]
    assert len(amy) == len(bob) == 5
    for iid in amy:
        backchecks.record(store, iid, "confirmed", checker="chen")
    # bob: 2 not confirmed, 2 confirmed, 1 could not reach -> failure rate 2 / 4 = 50 %
    for iid, result in zip(
        bob, ["not_confirmed", "not_confirmed", "confirmed", "confirmed", "not_reached"], strict=True
    ):
        backchecks.record(store, iid, result)
    rows = {r.interviewer: r for r in backchecks.summary(store, failure_threshold=0.2)}
    assert rows["amy"].failure_rate == 0 and not rows["amy"].flagged
    assert rows["bob"].failure_rate == pytest.approx(0.5) and rows["bob"].flagged
    assert (rows["bob"].completes, rows["bob"].sampled, rows["bob"].not_reached, rows["bob"].pending) == (10, 5, 1, 0)
    with pytest.raises(backchecks.BackcheckError, match="unknown back-check result"):
        backchecks.record(store, amy[0], "maybe")
    outside = next(i for i in range(1, 21) if i not in amy + bob)
    with pytest.raises(backchecks.BackcheckError, match="not in a back-check sample"):
        backchecks.record(store, outside, "confirmed")
    assert store.query("SELECT outcome FROM backchecks WHERE interview_id = ?", (amy[0],))[0][0] == "confirmed"
