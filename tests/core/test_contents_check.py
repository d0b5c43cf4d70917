"""The database check done table by table as read: only what a command reads is checked, a damaged table is
refused where it is read, and nothing is ever written to a file that was not checked whole."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from survey_tui.cli import main
from survey_tui.core.store.contents_check import check_on
from survey_tui.core.store.sqlite import Store, StoreError


@pytest.fixture
def read_mode() -> Iterator[None]:
    before = check_on("read")
    try:
        yield
    finally:
        check_on(before)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))


def _filled(path: Path) -> Path:
    """A store with answers, interviews and an event log, closed (nothing left in its WAL)."""
    with Store(path) as store:
        version = store.publish_instrument("brand", "source")
        for i in range(60):
            row = store.start_interview(version.id, mode="field", interviewer=f"iv{i % 3}")
            store.save_answer(row.id, "q1", i % 5, None)
            store.save_answer(row.id, "q2", f"text {i} 多", None)
            with store.transaction():  # one write for the 20 events
                for _ in range(20):
                    store.log_event(row.id, "shown", "q1", "x" * 200)
            store.finish_interview(row.id, "completed", "complete")
    return path


def _damage_table(path: Path, table: str) -> None:
    """Garble the first page of `table`'s b-tree (its root), and nothing else of the file."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(bytes(range(7, 247)) * 4)


def _checks(statements: list[str]) -> list[str]:
    return [s for s in statements if "quick_check" in s]


def _traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    statements: list[str] = []
    connect = Store._connect

    def traced(self: Store) -> sqlite3.Connection:
        conn = connect(self)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(Store, "_connect", traced)
    return statements


def test_each_table_is_checked_before_its_first_read_and_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_mode: None
) -> None:
    db = _filled(tmp_path / "survey.db")
    (tmp_path / "cache").exists() and shutil.rmtree(tmp_path / "cache")  # as on a machine that never saw it
    statements = _traced(monkeypatch)
    with Store(db) as store:
        assert _checks(statements) == []  # opening reads no table
        count = store.query("SELECT count(*) AS n FROM interviews")[0]["n"]
        assert count == 60
        assert _checks(statements) == ["PRAGMA quick_check('interviews')"]
        store.query("SELECT id FROM interviews WHERE id = 1")
        frames = list(
            store.read_frames(
                "SELECT interview_id, value FROM answers WHERE question = ? ORDER BY interview_id",
                [("q1",), ("q2",)],
                {"interview_id": pl.Int64, "value": pl.String},
            )
        )
        assert [f.height for f in frames] == [60, 60]
        assert _checks(statements) == ["PRAGMA quick_check('interviews')", "PRAGMA quick_check('answers')"]
    statements.clear()
    with Store(db) as store:  # the next command: those two are known clean, the event log is checked when read
        store.query("SELECT count(*) FROM interviews JOIN answers ON answers.interview_id = interviews.id")
        assert _checks(statements) == []
        assert sum(e["kind"] == "shown" for e in store.events(1)) == 20
        assert _checks(statements) == ["PRAGMA quick_check('interview_events')"]
    check_on("open")
    statements.clear()
    Store(db).close()  # checking at open wants the whole file: a few tables checked do not make it
    assert _checks(statements) == ["PRAGMA quick_check(5)"]
    check_on("read")
    statements.clear()
    with Store(db) as store:
        store.query("SELECT count(*) FROM interview_events")
        assert _checks(statements) == []  # the whole file was checked clean: nothing left to check


def test_a_damaged_table_is_refused_where_it_is_read_and_the_others_still_read(tmp_path: Path, read_mode: None) -> None:
    db = _filled(tmp_path / "survey.db")
    _damage_table(db, "interview_events")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with Store(db) as store:
        assert store.query("SELECT count(*) AS n FROM answers")[0]["n"] == 120
        assert store.answers(5)["q2"].value == "text 4 多"
        with pytest.raises(StoreError, match=r"survey\.db: the study database is damaged .*restore survey\.db"):
            store.events(1)
        with pytest.raises(StoreError, match="damaged"):  # and again: a damaged table is never read
            store.events(2)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_nothing_is_written_before_the_whole_file_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_mode: None
) -> None:
    db = _filled(tmp_path / "survey.db")
    statements = _traced(monkeypatch)
    with Store(db) as store:
        store.query("SELECT count(*) FROM answers")
        statements.clear()
        store.save_answer(3, "q1", 4, None)
        checks = _checks(statements)
        assert checks == ["PRAGMA quick_check(5)"]
        assert statements.index(checks[0]) < statements.index("BEGIN IMMEDIATE")
        assert store.answers(3)["q1"].value == 4
    _damage_table(db, "interview_events")  # a table the write does not touch
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with Store(db) as store:
        with pytest.raises(StoreError, match="damaged"):
            store.save_answer(4, "q1", 1, None)
        with pytest.raises(StoreError, match="damaged"):  # a write outside a transaction is stopped as well
            store.query("UPDATE answers SET value = '1' WHERE interview_id = 4")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_opening_checks_the_whole_file_when_it_writes_at_once(tmp_path: Path, read_mode: None) -> None:
    """A migration (or switching to WAL) writes at open: a damaged file is refused before it, as always."""
    db = _filled(tmp_path / "survey.db")
    _damage_table(db, "interview_events")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="damaged"):
        Store(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_reporting_commands_read_past_a_damaged_table_they_never_read_and_writes_refuse(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tables` and `export` read the answers and interviews only: a damaged event log does not stop them and
    they write what the undamaged study gives; a command that writes refuses the file, which stays as it is."""
    clean = tmp_path / "clean"
    shutil.copytree(demo_study_dir, clean, ignore=shutil.ignore_patterns("exports"))
    damaged = tmp_path / "damaged"
    shutil.copytree(clean, damaged)
    _damage_table(damaged / "survey.db", "interview_events")
    before = hashlib.sha256((damaged / "survey.db").read_bytes()).hexdigest()
    for study in (clean, damaged):
        assert main(["export", "--study", str(study), "--format", "csv"]) == 0, capsys.readouterr().err
        assert main(["tables", "--study", str(study), "--banner", "s3"]) == 0, capsys.readouterr().err
    written = sorted(p.name for p in (clean / "exports").iterdir() if p.suffix in (".csv", ".md"))
    assert written
    for name in written:
        assert (damaged / "exports" / name).read_bytes() == (clean / "exports" / name).read_bytes(), name
    capsys.readouterr()
    assert main(["publish", "--study", str(damaged)]) == 1
    err = capsys.readouterr().err
    assert "survey.db" in err and "damaged" in err and "Traceback" not in err
    assert main(["export", "--study", str(damaged), "--format", "csv"]) == 0  # the CLI left "read" mode
    assert hashlib.sha256((damaged / "survey.db").read_bytes()).hexdigest() == before
    _damage_table(damaged / "survey.db", "answers")
    assert main(["export", "--study", str(damaged), "--format", "csv"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "restore" in err and "Traceback" not in err
