"""The analysis of the demo study: counts equal the raw answers, planted effects come out, decisions work."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from survey_tui.analysis import quality
from survey_tui.analysis.coding import load_code_frames, record_codes
from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.hypotheses import evaluate_all
from survey_tui.analysis.tables import TableOptions, banner_tables, frequencies
from survey_tui.cli import main
from survey_tui.core.study import open_study
from survey_tui.core.yamlfile import write_text_atomic


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's field interviews at the default size and seed (300): enough power for every planted
    effect. Only the steps the analysis needs (study files, capture, the T1.5 demo step), to stay quick."""
    from survey_tui.demo import build
    from survey_tui.demo.analysis import demo_analysis

    target = tmp_path_factory.mktemp("demo-full")
    write_text_atomic(target / "study.yaml", build.STUDY_YAML)
    source = (build.bundled_instruments_dir() / build.INSTRUMENT_FILE).read_text("utf-8")
    write_text_atomic(target / "instruments" / build.INSTRUMENT_FILE, source)
    study = open_study(target)
    version = study.publish(study.load_instrument().id)
    with study.store() as store:
        build.capture_interviews(store, study.instrument_for_version(version), version.id, 300, 20261124)
    demo_analysis(study, lambda text: None)
    return target


def raw_answers(root: Path, question: str) -> dict[int, tuple[object, str | None]]:
    """Answers of complete field interviews not excluded, straight from SQLite."""
    with sqlite3.connect(root / "survey.db") as conn:
        rows = conn.execute(
            "SELECT a.interview_id, a.value, a.special FROM answers a JOIN interviews i ON i.id = a.interview_id"
            " WHERE i.mode = 'field' AND i.outcome = 'complete' AND a.question = ? AND a.interview_id NOT IN"
            " (SELECT d.interview_id FROM quality_decisions d WHERE d.id = (SELECT MAX(id) FROM quality_decisions"
            "  WHERE interview_id = d.interview_id) AND d.decision = 'exclude')",
            (question,),
        ).fetchall()
    return {iid: (None if value is None else json.loads(value), special) for iid, value, special in rows}


def test_frequencies_equal_a_direct_count(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    data = load_dataset(study)
    raw = raw_answers(demo_study_dir, "u1_freq")
    (freq,) = frequencies(data, ["u1_freq"], TableOptions(language="en"))
    counts = {r.code: r.count for r in freq.rows if r.code is not None}
    for code in range(1, 6):
        assert counts[code] == sum(1 for v, s in raw.values() if s is None and v == code)
    assert counts[98] == sum(1 for _, s in raw.values() if s == "dont_know")
    assert freq.total == data.n == len(raw)


def test_banner_counts_equal_a_direct_count(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    data = load_dataset(study)
    aware = raw_answers(demo_study_dir, "a2_aided")
    region = raw_answers(demo_study_dir, "s4")
    table = banner_tables(data, ["a2_aided"], ["s4"], TableOptions(language="en"))[0]
    row = table.row("code", 1)
    for code in (1, 2, 3, 4):
        expected = sum(1 for iid, (v, _) in aware.items() if 1 in (v or []) and region[iid][0] == code)
        assert row.counts[table.column_index("s4", code)] == expected
        base = sum(1 for iid in aware if region[iid][0] == code)
        assert table.columns[table.column_index("s4", code)].base == base
    grid = raw_answers(demo_study_dir, "b4_sat")
    taste = banner_tables(data, ["b4_sat_taste"], ["s4"], TableOptions(language="en"))[0]
    total = taste.column_index(None)
    assert taste.row("code", 5).counts[total] == sum(1 for v, _ in grid.values() if v and v.get("taste") == 5)


def test_filter_in_the_expression_language(demo_study_dir: Path) -> None:
    data = load_dataset(open_study(demo_study_dir))
    table = banner_tables(data, ["s3"], ["s4"], TableOptions(filter="s4 = 1 and selected(a2_aided, 1)", language="en"))[
        0
    ]
    expected = data.frame.filter((pl.col("s4") == 1) & (pl.col("a2_aided_1") == 1)).height
    assert table.columns[table.column_index(None)].base == expected


def test_planted_effects_and_hypothesis_verdicts(full_demo: Path) -> None:
    study = open_study(full_demo)
    data = load_dataset(study)
    results = {r.id: r for r in evaluate_all(data, study.config.hypotheses)}
    for planted in ("H1", "H2", "H3", "H5"):  # under-30 frequency, north awareness, women intent, NPS~taste
        assert results[planted].significant and results[planted].verdict == "supported", results[planted]
    assert not results["H4"].significant  # no gender effect on NPS was planted
    assert results["H4"].verdict == "not rejected"  # a null that stands is never "supported"
    assert results["H4"].sided == "two-sided" and results["H1"].sided == "one-sided"
    assert "one-sided" in results["H1"].explanation
    # the same effects show as letters in the banner tables
    north = banner_tables(data, ["a2_aided"], ["s4"], TableOptions(language="en"))[0]
    north_col = north.column_index("s4", 1)
    assert "B" in north.row("code", 1).letters[north_col] or "C" in north.row("code", 1).letters[north_col]
    gender = banner_tables(data, ["n2_intent", "b5_nps"], ["s3"], TableOptions(language="en"))
    women, men = gender[0].column_index("s3", 2), gender[0].column_index("s3", 1)
    assert gender[0].columns[men].letter in gender[0].row("mean").letters[women]
    nps_mean = gender[1].row("mean").letters
    assert gender[1].columns[men].letter not in nps_mean[women] and gender[1].columns[women].letter not in nps_mean[men]


def test_quality_flags_and_reversible_exclusions(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    with study.store() as store:
        everything = load_dataset(study, store=store, apply_exclusions=False)
        report = quality.review(everything, store)
        assert report.counts()["speeder"] >= 1
        excluded = quality.excluded_interviews(store)
        assert excluded, "the demo excludes its clearest speeders"
        assert all(f.decision == "exclude" for f in report.flagged if f.interview_id in excluded)
        careless = {s.interviewer: s for s in report.interviewers}["張家豪"]
        others = [s for s in report.interviewers if s.interviewer != "張家豪"]
        assert careless.speeder_rate > max(s.speeder_rate for s in others)
        # the excluded interviews are left out by the query: the same frame as reading all and filtering
        plain = {"include_coded": False, "weighting": False}
        kept = load_dataset(study, store=store, **plain)
        assert kept.excluded == frozenset(excluded)
        every = load_dataset(study, store=store, apply_exclusions=False, **plain).frame
        assert_frame_equal(kept.frame, every.filter(~pl.col("interview_id").is_in(sorted(excluded))))
        target = sorted(excluded)[0]
        quality.keep(store, target, "checked by phone")
        assert target in load_dataset(study, store=store).frame["interview_id"].to_list()
        quality.exclude(store, target, "speeder after all")
        assert target not in load_dataset(study, store=store).frame["interview_id"].to_list()
        assert [d[0] for d in quality.decision_history(store, target)][-2:] == ["keep", "exclude"]
        with pytest.raises(ValueError, match="reason"):
            quality.exclude(store, target, "  ")


def test_coded_open_end_is_a_multi_variable(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    frames, problems = load_code_frames(study)
    assert not problems and "a5_why" in frames
    data = load_dataset(study)
    assert "a5_why_coded_3" in data.variables
    table = banner_tables(data, ["a5_why_coded"], ["s3"], TableOptions(language="en"))[0]
    total = table.column_index(None)
    coded_any = data.frame.filter(pl.col("a5_why_coded_1").is_not_null()).height
    assert table.columns[total].base == coded_any > 0
    assert any(r.kind == "net" for r in table.rows)
    with study.store() as store, pytest.raises(ValueError, match="not in the code frame"):
        record_codes(store, frames["a5_why"], int(data.frame["interview_id"][0]), [55])


def test_tables_command_writes_every_format(demo_study_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("md", "csv", "xlsx"):
        assert main(["tables", "--study", str(demo_study_dir), "--banner", "s3,age", "--format", fmt]) == 0
        assert (demo_study_dir / "exports" / f"tables.{fmt}").stat().st_size > 0
    text = (demo_study_dir / "exports" / "tables.md").read_text("utf-8")
    assert "總計" in text and "樣本數" in text
    assert main(["tables", "--study", str(demo_study_dir), "--banner", "s3", "--filter", "s4 = = 1"]) == 1
    assert "filter" in capsys.readouterr().err
    assert main(["tables", "--study", str(demo_study_dir), "--banner", "nope"]) == 1
