"""The wide data frame equals the stored answers, decoded one by one in plain Python, for every variable.

The frame is built in bulk (answers split by question, JSON decoded by polars, columns aligned by joins);
this is the slow, obvious reading it must agree with, cell by cell, specials included.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from survey_tui.analysis.dataset import load_dataset
from survey_tui.core.study import open_study


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
    if question_type == "numeric" and isinstance(value, float) and variable_type == "numeric":
        return value
    return value


def test_every_cell_equals_the_stored_answer(demo_study_dir: Path) -> None:
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
    checked = {"single": 0, "scale": 0, "multi": 0, "grid": 0, "numeric": 0, "text": 0, "date": 0}
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
