"""`Store.read_frame(s)`: query results in bulk, the same through ADBC and through plain sqlite3."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
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


def _watch_queries(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], threading.Condition]:
    """Every query the driver runs and every result taken in, in order, as (step, thread name)."""
    steps: list[tuple[str, str]] = []
    changed = threading.Condition()
    run, take_in = adbc._execute, adbc._taken_in

    def record(step: str) -> None:
        with changed:
            steps.append((step, threading.current_thread().name))
            changed.notify_all()

    def running(statement):  # noqa: ANN001, ANN202 - the same signature
        record("run")
        try:
            return run(statement)
        finally:
            record("ran")

    def taking_in(stream, schema):  # noqa: ANN001, ANN202 - the same signature
        record("take in")
        try:
            return take_in(stream, schema)
        finally:
            record("taken in")

    monkeypatch.setattr(adbc, "_execute", running)
    monkeypatch.setattr(adbc, "_taken_in", taking_in)
    return steps, changed


def test_the_next_query_runs_while_the_caller_works_and_no_further(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset build overlaps reading question k+1 with its own work on question k; one query ahead, on
    a worker thread, and the connection is never used by two threads at once."""
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    steps, changed = _watch_queries(monkeypatch)
    params = [("q00001",), ("q03500",), ("zzz",)]
    frames = store.read_frames(SQL, params, SCHEMA)
    first = next(frames)
    with changed:  # the caller holds the first frame and has not asked for more: the second runs anyway
        assert changed.wait_for(lambda: len(steps) >= 4 and steps[-1][0] == "ran", timeout=30), steps
    assert [s for s, _ in steps] == ["run", "ran", "take in", "taken in", "run", "ran"][: len(steps)]
    assert len(steps) == 6, "only one query runs ahead"
    main = threading.current_thread().name
    assert {t for s, t in steps if s.startswith("r")} != {main}, "queries run on a worker thread"
    assert {t for s, t in steps if s.startswith("take")} == {main}, "results are taken in on the caller's"
    rest = list(frames)
    for frame, one in zip([first, *rest], params, strict=True):
        assert_frame_equal(frame, _reference(store, one))
    order = [s for s, _ in steps]
    assert order == ["run", "ran", "take in", "taken in"] * 3, "a query never runs while a result is taken in"


def test_a_query_the_driver_refuses_part_way_is_read_the_slow_way_from_there(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queries already run ahead are not lost or given twice: the frames before the refused one come in
    bulk, that one and the rest through sqlite3, in order."""
    adbc_driver_manager = pytest.importorskip("adbc_driver_manager", reason="adbc-driver-manager is not installed")
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    run, calls = adbc._execute, []

    def refusing_the_second(statement):  # noqa: ANN001, ANN202 - the same signature
        calls.append(statement)
        if len(calls) == 2:
            raise adbc_driver_manager.NotSupportedError("refused for the test")
        return run(statement)

    monkeypatch.setattr(adbc, "_execute", refusing_the_second)
    params = [("q00001",), ("q03500",), ("zzz",), ("q00002",)]
    got = list(store.read_frames(SQL, params, SCHEMA))
    assert len(calls) == 2, "nothing runs in bulk after the refusal"
    assert len(got) == len(params)
    for frame, one in zip(got, params, strict=True):
        assert_frame_equal(frame, _reference(store, one))


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_closing_the_reads_with_a_query_running_ahead_leaves_the_store_usable(store: Store) -> None:
    frames = store.read_frames(SQL, [("q00001",), ("q03500",), ("zzz",)], SCHEMA)
    assert next(frames).height == 3999
    frames.close()  # the second query may still be running on the worker: it is waited for, then all closed
    assert_frame_equal(store.read_frame(SQL, ("zzz",), SCHEMA), _reference(store, ("zzz",)))
