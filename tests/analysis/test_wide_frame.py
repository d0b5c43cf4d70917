"""The wide data frame equals the stored answers, decoded one by one in plain Python, for every variable.

The frame is built in bulk (one question's answers at a time, JSON decoded by polars, columns aligned by a
join); this is the slow, obvious reading it must agree with, cell by cell, specials included, through the
Arrow (ADBC) read and through the plain sqlite3 one.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.core.store import adbc
from survey_tui.core.study import open_study


@pytest.fixture(params=["arrow", "rows"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the store reads: Arrow through ADBC, and sqlite3 rows when the driver is not there."""
    if request.param == "rows":
        monkeypatch.setattr(adbc, "frames", lambda *args, **kwargs: None)
    else:
        pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    return request.param


def _expected(
    variable_type: str, question_type: str, value: object, special: str | None, specials: dict[str, int], variable
) -> object:  # noqa: ANN001 - a Variable
    if question_type == "multi":
        if special is not None:
            return int(variable.choice_code == specials.get(special))
        if value is None:
            return None
        if variable.choice_code in specials.values():
            return 0
        return int(variable.choice_code in value)
    if special is not None:
        code = specials[special]
        return str(code) if question_type == "text" else code
    if question_type == "grid":
        cell = (value or {}).get(variable.item)
        return cell if isinstance(cell, int) else None
    if question_type == "date":
        return None if value is None else dt.date.fromisoformat(value)
    if question_type == "calculate":
        if isinstance(value, bool):
            return float(value)
        return float(value) if isinstance(value, int | float) else value
    return value


def test_every_cell_equals_the_stored_answer(demo_study_dir: Path, reader: str) -> None:
    study = open_study(demo_study_dir)
    data = load_dataset(study, apply_exclusions=False, include_coded=False, weighting=False)
    instrument = data.instrument
    questions = {q.name: q for q in instrument.questions}
    with sqlite3.connect(demo_study_dir / "survey.db") as conn:
        rows = conn.execute(
            "SELECT a.interview_id, a.question, a.value, a.special FROM answers a"
            " JOIN interviews i ON i.id = a.interview_id WHERE i.mode = 'field' AND i.outcome = 'complete'"
        ).fetchall()
    stored = {(iid, q): (None if v is None else json.loads(v), s) for iid, q, v, s in rows}
    frame = {row["interview_id"]: row for row in data.frame.iter_rows(named=True)}
    checked = {"single": 0, "scale": 0, "multi": 0, "grid": 0, "numeric": 0, "text": 0, "date": 0, "calculate": 0}
    for variable in data.variables.values():
        question = questions.get(variable.question)
        if question is None or question.type not in checked:
            continue
        specials = {name: special.code for name, special in question.specials.items()}
        for iid, row in frame.items():
            answer = stored.get((iid, question.name))
            got = row[variable.name]
            if answer is None:
                assert got is None, (variable.name, iid, got)
                continue
            value, special = answer
            want = _expected(variable.type, question.type, value, special, specials, variable)
            if question.type == "numeric" and want is not None and question.decimals == 0:
                want = round(want)
            assert got == want, (variable.name, iid, value, special, got)
            checked[question.type] += 1
    assert all(checked.values()), checked  # the demo has every type, with answers


def test_interview_columns_equal_the_stored_interviews(demo_study_dir: Path, reader: str) -> None:
    data = load_dataset(open_study(demo_study_dir), apply_exclusions=False, include_coded=False, weighting=False)
    with sqlite3.connect(demo_study_dir / "survey.db") as conn:
        rows = conn.execute(
            "SELECT i.id, i.uuid, i.interviewer, i.mode, i.language, v.version, i.started_at, i.ended_at"
            " FROM interviews i JOIN instrument_versions v ON v.id = i.instrument_version_id"
            " WHERE i.mode = 'field' AND i.outcome = 'complete' ORDER BY i.id"
        ).fetchall()
    got = data.frame.select(
        "interview_id", "uuid", "interviewer", "mode", "language", "instrument_version", "started_at", "ended_at"
    ).rows()
    assert len(got) == len(rows) > 0
    for have, (iid, uuid, interviewer, mode, language, version, started, ended) in zip(got, rows, strict=True):
        start, end = dt.datetime.fromisoformat(started), dt.datetime.fromisoformat(ended)
        assert have[:6] == (iid, uuid, interviewer, mode, language, version)
        assert have[6] == start and have[7] == end, (iid, have[6:], started, ended)
    durations = data.frame["duration_s"].to_list()
    for duration, (*_, started, ended) in zip(durations, rows, strict=True):
        want = (dt.datetime.fromisoformat(ended) - dt.datetime.fromisoformat(started)).total_seconds()
        assert duration == pytest.approx(want, abs=1e-6)


def test_exclusions_and_coded_open_ends_line_up_with_their_interviews(demo_study_dir: Path, reader: str) -> None:
    """Excluded interviews are left out before the columns are built; coded open ends are aligned by id."""
    study = open_study(demo_study_dir)
    everything = load_dataset(study, apply_exclusions=False, include_coded=False, weighting=False)
    data = load_dataset(study, weighting=False)
    with sqlite3.connect(demo_study_dir / "survey.db") as conn:
        decisions = conn.execute("SELECT interview_id, decision FROM quality_decisions ORDER BY id").fetchall()
        codes = conn.execute("SELECT interview_id, question, codes FROM open_end_codes").fetchall()
    latest = dict(decisions)
    excluded = {iid for iid, decision in latest.items() if decision == "exclude"}
    kept = [iid for iid in everything.frame["interview_id"] if iid not in excluded]
    assert excluded & set(everything.frame["interview_id"]) and data.frame["interview_id"].to_list() == kept
    assert data.frame.select(everything.frame.columns).equals(
        everything.frame.filter(~pl.col("interview_id").is_in(sorted(excluded)))
    )
    given = {(iid, question): set(json.loads(text)) for iid, question, text in codes}
    coded = [v for v in data.variables.values() if v.question.endswith("_coded")]
    assert coded, "the demo codes its open ends"
    for variable in coded:
        question = variable.question.removesuffix("_coded")
        for iid, got in zip(data.frame["interview_id"], data.frame[variable.name], strict=True):
            chosen = given.get((iid, question))
            assert got == (None if chosen is None else int(variable.choice_code in chosen)), (variable.name, iid)


def test_each_questions_answers_are_freed_before_the_next_are_read(
    demo_study_dir: Path, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build holds one question's answers at a time (at 100,000 interviews the difference between about
    3x and 4x the frame in peak memory): when it asks for the next, the previous frame is gone."""
    import gc
    import weakref

    from survey_tui.core.store.sqlite import Store

    real = Store.read_frames
    still_alive: list[bool] = []

    def watched(self: Store, sql: str, params, schema):  # noqa: ANN001, ANN202 - the same signature
        inner = real(self, sql, params, schema)
        previous = None
        while True:
            if previous is not None:
                gc.collect()
                still_alive.append(previous() is not None)
            frame = next(inner, None)
            if frame is None:
                return
            previous = weakref.ref(frame)
            given = [frame]
            del frame
            yield given.pop()  # unnamed here, so only the caller holds it

    monkeypatch.setattr(Store, "read_frames", watched)
    data = load_dataset(open_study(demo_study_dir), weighting=False)
    assert data.n > 0 and len(still_alive) > 20, "one frame per question was read"
    assert not any(still_alive), f"{sum(still_alive)} answer frames were still held when the next was read"
