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


class _Interrupted(Exception):
    """Stands for Ctrl-C arriving while the caller waits for the query running ahead."""


def _watch_statements(monkeypatch: pytest.MonkeyPatch, *, hold: int = 0) -> tuple[list[dict], threading.Event]:
    """Every statement the bulk path makes, as a record of its state when it was closed: whether its query
    was still running (handed to the worker and not finished) and whether its result stream was still open.
    Statement number `hold` (1-based) waits in its query until the returned event is set; it is set when the
    statement is closed or the worker is shut down, whichever comes first, so nothing here can hang."""
    manager = pytest.importorskip("adbc_driver_manager", reason="adbc-driver-manager is not installed")
    closed: list[dict] = []
    gate = threading.Event()
    made = 0

    class Watched(manager.AdbcStatement):
        def __init__(self, connection: object) -> None:
            nonlocal made
            super().__init__(connection)
            made += 1
            self.number, self.stream, self.running = made, None, False
            self.finished = threading.Event()

        def execute_query(self):  # noqa: ANN202 - the same signature
            try:
                if self.number == hold:
                    gate.wait(30)
                result = super().execute_query()
                self.stream = result[0]
                return result
            finally:
                self.running = False
                self.finished.set()

        def close(self) -> None:
            closed.append({"running": self.running, "stream open": self.stream is not None and self.stream.is_valid})
            if self.running:  # closed under its query: let it finish first, so this test stays safe to run
                gate.set()
                self.finished.wait(30)
            if self.stream is not None:  # released after its statement, the stream writes to freed memory
                self.stream.release()
            super().close()

    class Runner(adbc.ThreadPoolExecutor):
        def submit(self, fn, /, *args):  # noqa: ANN001, ANN202 - the same signature
            args[0].running = True
            return super().submit(fn, *args)

        def shutdown(self, *args: object, **kwargs: object) -> None:
            gate.set()
            super().shutdown(*args, **kwargs)

    monkeypatch.setattr(manager, "AdbcStatement", Watched)
    monkeypatch.setattr(adbc, "ThreadPoolExecutor", Runner)
    return closed, gate


def test_closing_the_reads_early_releases_the_result_run_ahead_before_its_statement(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query run ahead has a result nobody takes in: SQLite's driver keeps a pointer into the statement
    in that stream, so the stream must go first."""
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    closed, _ = _watch_statements(monkeypatch)
    frames = store.read_frames(SQL, [("q00001",), ("q03500",), ("zzz",)], SCHEMA)
    assert next(frames).height == 3999
    frames.close()
    assert closed == [{"running": False, "stream open": False}] * 2


def test_an_exception_in_the_callers_loop_closes_everything_in_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset build that fails on a question leaves the query run ahead for the next one: it is closed
    as on an early close, and the worker is gone."""
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    closed, _ = _watch_statements(monkeypatch)
    with pytest.raises(ZeroDivisionError):
        for frame in store.read_frames(SQL, [("q00001",), ("q03500",), ("zzz",)], SCHEMA):
            frame.height / 0
    assert closed == [{"running": False, "stream open": False}] * 2
    assert all(not t.name.startswith("adbc-read") for t in threading.enumerate())


def test_an_interrupt_while_waiting_for_the_query_ahead_closes_it_only_once_it_has_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the caller's wait must not close the statement under the worker still running its query."""
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    closed, gate = _watch_statements(monkeypatch, hold=2)
    submit = adbc.ThreadPoolExecutor.submit

    def interrupted_on_the_second(self, fn, /, *args):  # noqa: ANN001, ANN202 - the same signature
        future = submit(self, fn, *args)
        if args[0].number == 2:  # the first wait for its result is interrupted, as Ctrl-C would

            def result(timeout: float | None = None) -> object:
                del future.result
                raise _Interrupted

            future.result = result
        return future

    monkeypatch.setattr(adbc.ThreadPoolExecutor, "submit", interrupted_on_the_second)
    frames = store.read_frames(SQL, [("q00001",), ("q03500",), ("zzz",)], SCHEMA)
    assert next(frames).height == 3999
    with pytest.raises(_Interrupted):
        next(frames)
    assert gate.is_set()
    assert closed == [{"running": False, "stream open": False}] * 2
    assert all(not t.name.startswith("adbc-read") for t in threading.enumerate())
    assert_frame_equal(store.read_frame(SQL, ("zzz",), SCHEMA), _reference(store, ("zzz",)))


def test_a_query_the_driver_refuses_before_it_runs_is_read_the_slow_way_from_there(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal while the statement is prepared (on the caller's thread, e.g. a parameter it cannot bind)
    comes one frame early; the frames are still each given once, in order."""
    adbc_driver_manager = pytest.importorskip("adbc_driver_manager", reason="adbc-driver-manager is not installed")
    pytest.importorskip("adbc_driver_sqlite", reason="adbc-driver-sqlite is not installed")
    prepare, calls = adbc._prepared, []

    def refusing_the_third(statement, *args):  # noqa: ANN001, ANN202 - the same signature
        calls.append(args)
        if len(calls) == 3:
            statement.close()
            raise adbc_driver_manager.NotSupportedError("refused for the test")
        return prepare(statement, *args)

    monkeypatch.setattr(adbc, "_prepared", refusing_the_third)
    params = [("q00001",), ("q03500",), ("zzz",), ("q00002",)]
    got = list(store.read_frames(SQL, params, SCHEMA))
    assert len(calls) == 3, "nothing is prepared in bulk after the refusal"
    assert len(got) == len(params)
    for frame, one in zip(got, params, strict=True):
        assert_frame_equal(frame, _reference(store, one))
