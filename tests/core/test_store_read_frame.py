"""`Store.read_frame`: a query's result in bulk, the same through ADBC and through plain sqlite3."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from survey_tui.core.store import sqlite as sqlite_store
from survey_tui.core.store.sqlite import Store, _read_frame_adbc

SCHEMA = {"interview_id": pl.Int64, "question": pl.String, "value": pl.String, "special": pl.String}
SQL = "SELECT interview_id, question, value, special FROM answers WHERE question != ? ORDER BY interview_id, question"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """Answers whose `special` is NULL for 3,000 rows before the first 'dont_know' (past ADBC's 1,024-row batch)."""
    store = Store(tmp_path / "survey.db")
    version = store.publish_instrument("s", "id: s\n", None)
    ids = [store.start_interview(version.id).id for _ in range(3)]
    conn = sqlite3.connect(store.path)
    with conn:
        conn.executemany(
            "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, 'x')",
            [
                (ids[i % 3], f"q{i:05d}", None if i == 3500 else f'"{i}"', "dont_know" if i == 3500 else None)
                for i in range(4000)
            ],
        )
    conn.close()
    return store


def test_adbc_and_sqlite3_give_the_same_frame(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    monkeypatch.setattr(sqlite_store, "ADBC_MIN_BYTES", 0)  # the bulk path even for this small file
    bulk = store.read_frame(SQL, ("q00001",), SCHEMA)
    assert _read_frame_adbc(store.path, SQL, ("q00001",)) is not None  # the bulk path was really taken
    with store.transaction():  # an open transaction: read on this connection, through sqlite3
        plain = store.read_frame(SQL, ("q00001",), SCHEMA)
    reference = pl.DataFrame(
        sqlite3.connect(store.path).execute(SQL, ("q00001",)).fetchall(), schema=SCHEMA, orient="row"
    )
    assert_frame_equal(bulk, reference)
    assert_frame_equal(plain, reference)
    assert bulk.height == 3999
    assert bulk.filter(pl.col("special") == "dont_know")["value"].to_list() == [None]


def test_an_empty_result_keeps_the_schema(store: Store) -> None:
    frame = store.read_frame("SELECT interview_id, question, value, special FROM answers WHERE 0", (), SCHEMA)
    assert frame.height == 0
    assert frame.schema == pl.Schema(SCHEMA)


def test_a_small_study_is_read_without_loading_the_bulk_driver(tmp_path: Path) -> None:
    """Importing ADBC (with pyarrow.dataset and pandas) costs more than reading a small study's answers."""
    code = f"""
import sys
from pathlib import Path
import polars as pl
from survey_tui.core.store.sqlite import Store
store = Store(Path({str(tmp_path / "survey.db")!r}))
frame = store.read_frame("SELECT id FROM interviews", (), {{"id": pl.Int64}})
print(frame.height, "adbc_driver_sqlite" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False"]
