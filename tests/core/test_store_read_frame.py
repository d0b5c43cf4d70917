"""`Store.read_frame(s)`: query results in bulk, the same through ADBC and through plain sqlite3."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from survey_tui.core.store import adbc
from survey_tui.core.store.sqlite import Store, _adbc_database

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


def _reference(store: Store, params: tuple[object, ...]) -> pl.DataFrame:
    rows = sqlite3.connect(store.path).execute(SQL, params).fetchall()
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_adbc_and_sqlite3_give_the_same_frame(store: Store) -> None:
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    direct = adbc.frames(lambda: _adbc_database(store.path), [(SQL, ("q00001",))], SCHEMA, adbc.SQLITE_OPTIONS)
    assert direct is not None  # the bulk path is really there
    reference = _reference(store, ("q00001",))
    assert_frame_equal(next(direct), reference)
    bulk = store.read_frame(SQL, ("q00001",), SCHEMA)
    with store.transaction():  # an open transaction: read on this connection, through sqlite3
        plain = store.read_frame(SQL, ("q00001",), SCHEMA)
    assert_frame_equal(bulk, reference)
    assert_frame_equal(plain, reference)
    assert bulk.height == 3999
    assert bulk.filter(pl.col("special") == "dont_know")["value"].to_list() == [None]


def test_many_reads_on_one_connection_each_equal_its_own_query(store: Store) -> None:
    params = [("q00001",), ("q03500",), ("zzz",)]
    got = list(store.read_frames(SQL, params, SCHEMA))
    assert len(got) == 3
    for frame, one in zip(got, params, strict=True):
        assert_frame_equal(frame, _reference(store, one))
    with store.transaction():
        plain = list(store.read_frames(SQL, params, SCHEMA))
    for frame, other in zip(plain, got, strict=True):
        assert_frame_equal(frame, other)


def test_an_empty_result_keeps_the_schema(store: Store) -> None:
    frame = store.read_frame("SELECT interview_id, question, value, special FROM answers WHERE 0", (), SCHEMA)
    assert frame.height == 0
    assert frame.schema == pl.Schema(SCHEMA)


def test_a_bulk_read_does_not_import_pyarrow(tmp_path: Path) -> None:
    """ADBC's DB-API layer brings pyarrow, pyarrow.dataset and pandas (0.45 s, 90 MB): the store uses the
    low-level driver objects, whose Arrow stream polars reads directly."""
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    code = f"""
import sys
from pathlib import Path
import polars as pl
from survey_tui.core.store.sqlite import Store
store = Store(Path({str(tmp_path / "survey.db")!r}))
frame = store.read_frame("SELECT id FROM interviews WHERE id > ?", (0,), {{"id": pl.Int64}})
print(frame.height, "adbc_driver_sqlite" in sys.modules, "pyarrow" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "True", "False"]
