"""The quota board's completes read in bulk equal the row-by-row reading, value types included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from survey_tui.core.fieldwork.quotas import _completes_by_rows, completes_frame
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import open_study


def _store_with_every_kind_of_value(path: Path) -> Store:
    """Answers of each JSON kind, specials, respondent attributes, and interviews that do not count."""
    store = Store(path)
    version = store.publish_instrument("s", "id: s\n", None)
    ids = [store.start_interview(version.id).id for _ in range(8)]
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO respondents (id, created_at, attributes) VALUES ('r1', 'x', ?)", ('{"age": 41}',))
        conn.execute("INSERT INTO respondents (id, created_at, attributes) VALUES ('r2', 'x', ?)", ('{"age": "old"}',))
        conn.execute("UPDATE interviews SET respondent_id = 'r1' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE interviews SET respondent_id = 'r2' WHERE id = ?", (ids[1],))
        conn.execute("UPDATE interviews SET outcome = 'complete', mode = 'field', ended_at = '2026-01-0' || id")
        conn.execute("UPDATE interviews SET outcome = 'break_off' WHERE id = ?", (ids[7],))
        conn.execute("UPDATE interviews SET mode = 'test' WHERE id = ?", (ids[6],))
        answers = {
            "code": ["1", "2", None, "3", "12", "-4", "5", "6"],
            "amount": ["1", "2.5", "1e3", None, "true", "[1]", "7", "8"],
            "word": ['"北部"', "3", '"x\\"y"', "null", None, '{"a": 1}', '"z"', '"w"'],
            "age": [None, None, "30", None, "28", None, "50", "60"],
        }
        for question, values in answers.items():
            for iid, value in zip(ids, values, strict=True):
                if value is not None or question == "code":
                    special = "dont_know" if value is None else None
                    conn.execute(
                        "INSERT INTO answers (interview_id, question, value, special, answered_at)"
                        " VALUES (?, ?, ?, ?, 'x')",
                        (iid, question, value, special),
                    )
    conn.close()
    return store


@pytest.mark.parametrize("since", [None, "2026-01-03"])
def test_bulk_completes_equal_the_row_by_row_reading(tmp_path: Path, since: str | None) -> None:
    store = _store_with_every_kind_of_value(tmp_path / "survey.db")
    names = {"code", "amount", "word", "age", "absent"}
    bulk = completes_frame(store, names, since)
    rows = _completes_by_rows(store, names, since)
    assert_frame_equal(bulk, rows)
    assert bulk.height == (6 if since is None else 3)
    if since is None:  # every kind of value is there
        assert bulk.schema["code"] == pl.Int64 and bulk.schema["amount"] == pl.Float64
        assert bulk.schema["word"] == pl.String and bulk.schema["absent"] == pl.Float64


def test_bulk_completes_on_the_demo(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    names: set[str] = set()
    for quota in study.config.quotas:
        names |= quota.names()
    with study.store() as store:
        bulk = completes_frame(store, names)
        assert_frame_equal(bulk, _completes_by_rows(store, names))
    assert bulk.height > 0 and len(names) > 1
