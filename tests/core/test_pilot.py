"""Pilot statistics on scripted interviews with known answers and times; the report and its command."""

from __future__ import annotations

import statistics
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from survey_tui.analysis.pilot import cronbach_alpha, pilot_statistics
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder
from survey_tui.core.study import Study, init_study, open_study
from survey_tui.demo.synthetic import SimulatedClock
from tests.conftest import SMALL


def direct_alpha(matrix: list[list[float]]) -> float:
    """Cronbach's alpha written out from its definition, independent of the implementation."""
    k = len(matrix[0])
    item_variances = [statistics.variance([row[j] for row in matrix]) for j in range(k)]
    total_variance = statistics.variance([sum(row) for row in matrix])
    return k / (k - 1) * (1 - sum(item_variances) / total_variance)


def test_cronbach_alpha_matches_the_formula() -> None:
    matrix = [[4, 5, 4], [2, 3, 3], [5, 5, 4], [3, 2, 3], [1, 2, 1], [4, 4, 5]]
    assert cronbach_alpha(matrix) == pytest.approx(direct_alpha(matrix))
    assert cronbach_alpha([[1, 1], [2, 2]]) == pytest.approx(1.0)  # perfectly consistent items
    assert cronbach_alpha([[3, 3], [3, 3]]) is None  # no variance: undefined, not a division error


COMPLETE = [
    ("age", 30),
    ("drinks", 1),
    ("aware", [1, 2]),
    ("favourite", 1),
    ("why", "close by"),
    ("sat", None),
    ("spend", 50),
    ("visit", "2025-01-01"),
    ("thanks", None),
]
SAT = [{"taste": 1, "price": 1}, {"taste": 2, "price": 3}, {"taste": 3, "price": 2}, {"taste": 3, "price": 3}]


def run(
    study: Study,
    version_id: int,
    mode: str,
    script: list[tuple[str, Any]],
    start: datetime,
    note: str | None = None,
    stop_at: str | None = None,
) -> None:
    clock = SimulatedClock(start)
    with study.store() as store:
        instrument = study.instrument_for_version(store.version_by_id(version_id))
        row = store.start_interview(version_id, mode=mode, interviewer="A", started_at=clock.iso())
        engine = InterviewEngine(instrument, StoreRecorder(store, row.id, "A", clock=clock.iso), seed="x")
        engine.start()
        for name, value in script:
            assert engine.current is not None and engine.current.name == name, (engine.current, name)
            if name == stop_at:
                break
            clock.tick(20 if name == "drinks" else 5)
            if note and name == "drinks":
                engine.note(note)
            result = engine.submit_special("dont_know") if value == "DK" else engine.submit(value)
            assert result.accepted, (name, result.rejection)
        engine.finish("break_off" if stop_at else "complete")


@pytest.fixture
def piloted(tmp_path: Path) -> tuple[Study, int]:
    init_study(tmp_path / "s", "Pilot test")
    (tmp_path / "s" / "instruments" / "small.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    study = open_study(tmp_path / "s")
    version = study.publish("small")
    start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    for i, sat in enumerate(SAT):
        script = [(n, sat if n == "sat" else v) for n, v in COMPLETE]
        run(study, version.id, "pilot", script, start.replace(hour=2 + i), note="問題太長" if i == 0 else None)
    # a don't-know on drinks skips the brand section; the respondent stops at spend
    run(
        study,
        version.id,
        "pilot",
        [("age", 40), ("drinks", "DK"), ("spend", 0)],
        start.replace(hour=8),
        stop_at="spend",
    )
    # a field interview answering differently must not enter the pilot figures
    run(
        study,
        version.id,
        "field",
        [(n, {"taste": 1, "price": 3} if n == "sat" else (2 if n == "drinks" else v)) for n, v in COMPLETE[:2]],
        start.replace(day=9),
        stop_at=None,
    )
    return study, version.id


def test_pilot_statistics_on_known_interviews(piloted: tuple[Study, int]) -> None:
    study, version_id = piloted
    with study.store() as store:
        instrument = study.instrument_for_version(store.version_by_id(version_id))
        stats = pilot_statistics(store, instrument, version_id, 1)
    assert (stats.interviews, stats.completed) == (5, 4)
    assert stats.median_minutes == pytest.approx(1.0)  # 8 questions x 5 s + 20 s on drinks
    assert stats.breakoffs == [("spend", 1)]
    drinks = stats.item("drinks")
    assert (drinks.asked, drinks.answered, drinks.dont_know, drinks.refused) == (5, 4, 1, 0)
    assert drinks.rate(drinks.dont_know) == pytest.approx(0.2)
    assert drinks.median_seconds == pytest.approx(20.0)
    assert "zero variance" in drinks.flags  # every substantive answer was 1 (the field interview's 2 is not here)
    assert "high don't know" in drinks.flags
    assert drinks.notes == [("A", "問題太長")]
    assert stats.item("age").median_seconds == pytest.approx(5.0)
    spend = stats.item("spend")
    assert (spend.asked, spend.answered) == (5, 4)  # shown to the break-off too, not answered
    aware = dict(stats.item("aware").distribution)
    assert aware["1 甲牌"] == 4 and aware["3 丙牌"] == 0
    grid = stats.grid("sat")
    matrix = [[s["taste"], s["price"]] for s in SAT]
    assert grid.complete == 4
    assert grid.alpha == pytest.approx(direct_alpha(matrix))
    taste, price = [r[0] for r in matrix], [r[1] for r in matrix]
    assert grid.item_total["taste"] == pytest.approx(statistics.correlation(taste, price))
    assert stats.item("sat_taste").distribution[0] == ("1 不滿意", 1)


def test_pilot_report_command_writes_markdown(piloted: tuple[Study, int], capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    study, _ = piloted
    assert main(["pilot-report", "--study", str(study.root)]) == 0
    report = (study.exports_dir / "pilot_report_small_v1.md").read_text("utf-8")
    assert "Pilot interviews: 5 (completed 4)" in report
    assert "`drinks` — don't know 20%" in report
    assert "| `spend` | 1 |" in report
    assert "問題太長" in report


def test_pilot_report_without_pilot_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    init_study(tmp_path / "s", "No pilot")
    (tmp_path / "s" / "instruments" / "small.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    assert main(["pilot-report", "--study", str(tmp_path / "s")]) == 1
    assert "no pilot interviews" in capsys.readouterr().err


def test_demo_pilot_report_flags_what_v2_fixed(demo_study_dir: Path) -> None:
    from survey_tui.report.pilot_report import build_pilot_report

    _, text = build_pilot_report(open_study(demo_study_dir))
    attention = text.split("## Break-offs")[0]
    assert "`u8_own_cup` — don't know" in attention and "interviewer note" in attention
    assert "`b2_image_tea` — zero variance" in attention
    assert "## Changes after the pilot" in text and "item tea removed" in text
